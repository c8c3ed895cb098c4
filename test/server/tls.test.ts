import t from 'tap';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import { buildApp } from '../../src/server/app.ts';
import { namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { tempDir } from '../helpers/test-app.ts';
import { makeTestPki } from '../helpers/test-pki.ts';

t.test("HTTPS with client certificates (mTLS), as kube-scheduler's tlsConfig sets it up", async (t) => {
  const pki = await makeTestPki(await tempDir(t));
  const log = pino({ level: 'silent' });
  const cluster = new SnapshotSource({ log, objects: { nodes: [node('n1')], pods: [], agentPools: [], agentClasses: [], models: [] } });
  const app = await buildApp({
    cluster,
    registry: new PluginRegistry(),
    builtins: false,
    logger: log,
    https: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
  });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `https://localhost:${port}/scheduler/filter`;
  const body = JSON.stringify(namesArgs(pod('p'), ['n1']));

  const withCert = new Agent({ connect: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
  t.teardown(() => withCert.close());
  const ok = await request(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    dispatcher: withCert,
    signal: AbortSignal.timeout(5000),
  });
  t.equal(ok.statusCode, 200);
  t.same(((await ok.body.json()) as { NodeNames: string[] }).NodeNames, ['n1']);

  const noCert = new Agent({ connect: { ca: pki.ca } });
  t.teardown(() => noCert.close());
  await t.rejects(
    request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: noCert, signal: AbortSignal.timeout(5000) }).then((r) =>
      r.body.text(),
    ),
    'a client without a certificate is refused',
  );
});
