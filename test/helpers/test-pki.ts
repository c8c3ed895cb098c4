/** A throwaway CA, server and client certificate made with openssl, for TLS and mTLS tests. */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  paths: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
}

async function issue(dir: string, name: string, subject: string, ext: string): Promise<void> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject]);
  await writeFile(join(dir, `${name}.ext`), ext);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-out',
    join(dir, `${name}.crt`),
    '-days',
    '1',
    '-extfile',
    join(dir, `${name}.ext`),
  ]);
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=neuronetes-test-ca',
  ]);
  await issue(dir, 'server', '/CN=neuronetes-extender', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await issue(dir, 'client', '/CN=kube-scheduler', 'extendedKeyUsage=clientAuth\n');
  const paths = {
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
  return {
    dir,
    paths,
    ca: await readFile(paths.ca),
    serverCert: await readFile(paths.serverCert),
    serverKey: await readFile(paths.serverKey),
    clientCert: await readFile(paths.clientCert),
    clientKey: await readFile(paths.clientKey),
  };
}
