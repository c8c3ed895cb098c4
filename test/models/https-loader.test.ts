import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { HostPolicy } from '../../extenders/builtin/model-loader/host-policy.ts';
import { buildTestApp } from '../guardrails/harness.ts';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

const CONFIG_JSON = '{"architectures":["LlamaForCausalLM"]}';
const SHARD = Buffer.alloc(256 * 1024, 7);
const SINGLE = 'GGUF single-file model';

/** A real model server on loopback: a manifest folder, a file, a redirect, a 404, a stall, a lie. */
async function startModelServer(t: Test): Promise<{ base: string; server: Server }> {
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    const send = (status: number, body: string | Buffer, type = 'application/octet-stream'): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    switch (url) {
      case '/llama/manifest.json':
        return send(
          200,
          JSON.stringify({
            files: [
              { path: 'config.json', sha256: sha256(CONFIG_JSON) },
              { path: 'shards/model 00001.safetensors', size: SHARD.length, sha256: sha256(SHARD) },
            ],
          }),
          'application/json',
        );
      case '/llama/config.json':
        return send(200, CONFIG_JSON, 'application/json');
      case '/llama/shards/model%2000001.safetensors':
        return send(200, SHARD);
      case '/files/phi.gguf':
        return send(200, SINGLE);
      case '/moved/phi.gguf':
        res.writeHead(302, { location: '/files/phi.gguf' });
        return res.end();
      case '/liar/manifest.json':
        return send(200, JSON.stringify({ files: [{ path: 'w.bin', sha256: sha256('something else') }] }), 'application/json');
      case '/liar/w.bin':
        return send(200, 'tampered');
      case '/escape/manifest.json':
        return send(200, JSON.stringify({ files: [{ path: '../../outside.bin' }] }), 'application/json');
      case '/notamanifest/manifest.json':
        return send(200, JSON.stringify({ shards: 3 }), 'application/json');
      case '/away/phi.gguf':
        // The same server under another name: only a host the policy allows may be redirected to.
        res.writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/files/phi.gguf` });
        return res.end();
      case '/authed/same.gguf':
        res.writeHead(302, { location: '/whoami' });
        return res.end();
      case '/authed/elsewhere.gguf':
        res.writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/whoami` });
        return res.end();
      case '/whoami':
        return send(200, req.headers.authorization ?? 'no credentials');
      case '/metadata/model.gguf':
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' });
        return res.end();
      case '/chunked/big.bin':
        // No content-length: only counting the bytes as they come can stop it.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(1024, 2));
        return res.end();
      case '/huge/manifest.json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"files": [');
        for (let i = 0; i < 2048; i++) res.write(`${i > 0 ? ',' : ''}{"path": "f${i}.bin", "size": 1, "pad": "${'x'.repeat(1000)}"}`);
        return res.end(']}');
      case '/overweight/manifest.json':
        return send(
          200,
          JSON.stringify({
            files: [
              { path: 'a.bin', size: 600 },
              { path: 'b.bin', size: 600 },
            ],
          }),
          'application/json',
        );
      case '/slow/model.gguf':
        // Promises a megabyte, sends a little, then goes quiet.
        res.writeHead(200, { 'content-length': 1024 * 1024 });
        res.write(Buffer.alloc(1024, 1));
        return;
      default:
        return send(404, 'not found', 'text/plain');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function models(base: string): string {
  const m = (name: string, uri: string, size = '1Gi'): string => `---
apiVersion: neuronetes.io/v1alpha1
kind: Model
metadata: { name: ${name}, namespace: agents }
spec: { weightsURI: '${uri}', size: '${size}' }
`;
  return [
    m('llama', `${base}/llama/`),
    m('phi', `${base}/files/phi.gguf`),
    m('moved', `${base}/moved/phi.gguf`),
    m('missing', `${base}/missing/model.gguf`),
    m('slow', `${base}/slow/model.gguf`),
    m('liar', `${base}/liar/`),
    m('escape', `${base}/escape/`),
    m('notamanifest', `${base}/notamanifest/`),
    m('away', `${base}/away/phi.gguf`),
    m('metadata', `${base}/metadata/model.gguf`),
    m('same', `${base}/authed/same.gguf`),
    m('elsewhere', `${base}/authed/elsewhere.gguf`),
    m('by-name', `${base.replace('127.0.0.1', 'localhost')}/files/phi.gguf`),
    m('undersized', `${base}/files/phi.gguf`, '10'),
    m('chunked', `${base}/chunked/big.bin`, '16Ki'),
    m('huge', `${base}/huge/`),
    m('overweight', `${base}/overweight/`, '1Ki'),
  ].join('');
}

interface ErrorBody {
  code: string;
  message: string;
}

const load = (app: Awaited<ReturnType<typeof buildTestApp>>, name: string) =>
  app.inject({ method: 'POST', url: '/models/load', payload: { name, namespace: 'agents' } });

t.test('downloads over HTTP from a real server: manifests with checksums, single files, redirects', async (t) => {
  const { base } = await startModelServer(t);
  const app = await buildTestApp(t, {
    cluster: models(base),
    config: 'model-loader-plugins:\n  - { name: https, timeout: 5s, config: { allowHttp: true, allowedHosts: [127.0.0.1] } }',
    agent: {},
  });
  const dir = app.neuronetes.models?.cache.dir as string;

  const llama = await load(app, 'llama');
  t.equal(llama.statusCode, 200, llama.body);
  t.match(llama.json(), { status: 'loaded', loader: 'https', files: 2, bytes: CONFIG_JSON.length + SHARD.length });
  t.equal(await readFile(join(dir, 'llama', 'config.json'), 'utf8'), CONFIG_JSON);
  t.equal(sha256(await readFile(join(dir, 'llama', 'shards', 'model 00001.safetensors'))), sha256(SHARD));

  t.equal((await load(app, 'phi')).statusCode, 200);
  t.equal(await readFile(join(dir, 'phi', 'phi.gguf'), 'utf8'), SINGLE);
  t.equal((await load(app, 'moved')).statusCode, 200, 'redirects are followed');
  t.equal(await readFile(join(dir, 'moved', 'phi.gguf'), 'utf8'), SINGLE);
});

t.test('404s, bad checksums, bad manifests and path escapes fail cleanly', async (t) => {
  const { base } = await startModelServer(t);
  const app = await buildTestApp(t, {
    cluster: models(base),
    config: 'model-loader-plugins:\n  - { name: https, timeout: 5s, config: { allowHttp: true, allowedHosts: [127.0.0.1] } }',
    agent: {},
  });
  const cases: [string, RegExp][] = [
    ['missing', /GET http:\/\/127\.0\.0\.1:\d+\/missing\/model\.gguf: HTTP 404/],
    ['liar', /sha256 [0-9a-f]{64} does not match the manifest's/],
    ['escape', /refusing to write "\.\.\/\.\.\/outside\.bin"/],
    ['notamanifest', /not a model manifest: .*files/],
  ];
  for (const [name, message] of cases) {
    const res = await load(app, name);
    t.equal(res.statusCode, 502, name);
    t.equal(res.json<ErrorBody>().code, 'NN_MODEL_LOAD_FAILED');
    t.match(res.json<ErrorBody>().message, message);
  }
  const cache = app.neuronetes.models?.cache;
  t.same(await cache?.names(), []);
  t.same(await cache?.staging(), [], 'no partial download left');
});

t.test('a server that stalls mid-body: the plugin timeout aborts it and nothing is left', async (t) => {
  const { base } = await startModelServer(t);
  const app = await buildTestApp(t, {
    cluster: models(base),
    config: 'model-loader-plugins:\n  - { name: https, timeout: 300ms, config: { allowHttp: true, allowedHosts: [127.0.0.1] } }',
    agent: {},
  });
  const res = await load(app, 'slow');
  t.equal(res.statusCode, 504);
  t.equal(res.json<ErrorBody>().code, 'NN_MODEL_LOAD_TIMEOUT');
  t.match(res.json<ErrorBody>().message, /https timed out loading agents\/slow/);
  t.same(await app.neuronetes.models?.cache.names(), []);
  t.same(await app.neuronetes.models?.cache.staging(), [], 'the partial file went with its staging folder');

  const quiet = await buildTestApp(t, {
    cluster: models(base),
    config: 'model-loader-plugins:\n  - { name: https, timeout: 10s, config: { allowHttp: true, allowedHosts: [127.0.0.1], bodyTimeout: 200ms } }',
    agent: {},
  });
  const idle = await load(quiet, 'slow');
  t.equal(idle.statusCode, 502, "undici's body timeout (silence between chunks) fails the load before the plugin deadline");
  t.match(idle.json<ErrorBody>().message, /Body Timeout/i);
  t.same(await quiet.neuronetes.models?.cache.staging(), []);
});

t.test('plain http:// needs allowHttp', async (t) => {
  const { base } = await startModelServer(t);
  const app = await buildTestApp(t, { cluster: models(base), agent: {} });
  const res = await load(app, 'phi');
  t.equal(res.statusCode, 422);
  t.match(res.json<ErrorBody>().message, /https: no/);
});

t.test('hosts: loopback and link-local only when listed, allowedHosts for everything else, each redirect checked', async (t) => {
  const { base } = await startModelServer(t);
  const only = (config: string) =>
    buildTestApp(t, { cluster: models(base), config: `model-loader-plugins:\n  - { name: https, timeout: 5s, config: ${config} }`, agent: {} });
  const failed = async (app: Awaited<ReturnType<typeof buildTestApp>>, name: string, message: RegExp): Promise<void> => {
    const res = await load(app, name);
    t.equal(res.statusCode, 502, `${name}: ${res.body}`);
    t.match(res.json<ErrorBody>().message, message, name);
  };

  const open = await only('{ allowHttp: true }');
  await failed(
    open,
    'phi',
    /refusing http:\/\/127\.0\.0\.1:\d+\/files\/phi\.gguf: 127\.0\.0\.1 is a loopback or link-local address; list it in the https loader's allowedHosts/,
  );
  await failed(open, 'by-name', /refusing localhost: it resolves to (127\.0\.0\.1|::1), a loopback or link-local address/);

  const listed = await only("{ allowHttp: true, allowedHosts: ['127.0.0.1'] }");
  await failed(listed, 'by-name', /refusing http:\/\/localhost:\d+\/files\/phi\.gguf: host localhost is not in the https loader's allowedHosts/);
  await failed(listed, 'away', /host localhost is not in the https loader's allowedHosts \(redirected from http:\/\/127\.0\.0\.1:\d+\/away\/phi\.gguf\)/);
  await failed(listed, 'metadata', /host 169\.254\.169\.254 is not in the https loader's allowedHosts \(redirected from/);
  t.same(await listed.neuronetes.models?.cache.names(), []);
  t.same(await listed.neuronetes.models?.cache.staging(), []);

  const both = await only("{ allowHttp: true, allowedHosts: ['127.0.0.1', 'localhost', '*.example.com'] }");
  t.match((await load(both, 'away')).json(), { status: 'loaded' }, 'a redirect to another listed host is followed');
  t.match((await load(both, 'by-name')).json(), { status: 'loaded' }, 'a name listed exactly may resolve to loopback');

  const withToken = await only("{ allowHttp: true, allowedHosts: ['127.0.0.1', 'localhost'], headers: { authorization: 'Bearer s3cret' } }");
  const dir = withToken.neuronetes.models?.cache.dir as string;
  t.equal((await load(withToken, 'same')).statusCode, 200);
  t.equal(await readFile(join(dir, 'same', 'same.gguf'), 'utf8'), 'Bearer s3cret', 'a redirect within the origin keeps the configured headers');
  t.equal((await load(withToken, 'elsewhere')).statusCode, 200);
  t.equal(await readFile(join(dir, 'elsewhere', 'elsewhere.gguf'), 'utf8'), 'no credentials', 'a redirect to another host gets none of them');

  const wildcard = await only("{ allowHttp: true, allowedHosts: ['*.0.0.1'] }");
  await failed(wildcard, 'phi', /refusing http:\/\/127\.0\.0\.1:\d+\/files\/phi\.gguf: 127\.0\.0\.1 is a loopback or link-local address/);
});

t.test('the redirect rules and the link-local guard, as HostPolicy answers them', async (t) => {
  const open = new HostPolicy(undefined, false);
  t.doesNotThrow(() => open.check(new URL('https://models.example/a/'), new URL('https://models.example/b/')));
  t.throws(
    () => open.check(new URL('https://cdn.example/a'), new URL('https://models.example/a')),
    /refusing the redirect from https:\/\/models\.example\/a to another host, cdn\.example; list both/,
  );
  t.throws(
    () => open.check(new URL('http://models.example/a'), new URL('https://models.example/a')),
    /plain http:\/\/ needs the https loader's allowHttp \(redirected from/,
  );
  t.throws(() => open.check(new URL('https://169.254.169.254/latest/')), /169\.254\.169\.254 is a loopback or link-local address/);
  t.throws(() => open.check(new URL('https://[::ffff:127.0.0.1]/x')), /is a loopback or link-local address/);
  t.throws(() => open.check(new URL('https://[fe80::1]/x')), /is a loopback or link-local address/);
  t.doesNotThrow(() => open.check(new URL('https://10.0.0.7/mirror/')), 'in-cluster mirrors on private addresses are fine');
  const listed = new HostPolicy(['Models.Example', '*.cdn.example'], false);
  t.doesNotThrow(() => listed.check(new URL('https://eu.cdn.example/x'), new URL('https://models.example/x')));
  t.throws(() => listed.check(new URL('https://cdn.example/x')), /host cdn\.example is not in the https loader's allowedHosts/);
  t.equal(listed.allowsAddress('eu.cdn.example', '127.0.0.1'), false, 'a wildcard never admits loopback');
  t.equal(listed.allowsAddress('models.example', '127.0.0.1'), true, 'an exact name does');
  const v6 = new HostPolicy(['[::1]'], false);
  t.doesNotThrow(() => v6.check(new URL('https://[::1]:8443/x')), 'an IPv6 address is listed with or without brackets');
  t.throws(() => new HostPolicy(['::2'], false).check(new URL('https://[::1]/x')), /host ::1 is not in the https loader's allowedHosts/);
});

t.test('sizes: spec.size caps announced, streamed and manifest sizes; manifests are capped at 1 MiB', async (t) => {
  const { base } = await startModelServer(t);
  const app = await buildTestApp(t, {
    cluster: models(base),
    config: "model-loader-plugins:\n  - { name: https, timeout: 5s, config: { allowHttp: true, allowedHosts: ['127.0.0.1'] } }",
    agent: {},
  });
  const cases: [string, RegExp][] = [
    ['undersized', /agents\/undersized is larger than its spec\.size 10 \(10 bytes\): 22 bytes or more/],
    ['chunked', /agents\/chunked is larger than its spec\.size 16Ki \(16384 bytes\): \d{5} bytes or more; refusing to write more/],
    ['overweight', /agents\/overweight is larger than its spec\.size 1Ki \(1024 bytes\): 1200 bytes or more/],
    ['huge', /huge\/manifest\.json: a manifest larger than 1048576 bytes/],
  ];
  for (const [name, message] of cases) {
    const res = await load(app, name);
    t.equal(res.statusCode, 502, `${name}: ${res.body}`);
    t.match(res.json<ErrorBody>().message, message, name);
  }
  t.same(await app.neuronetes.models?.cache.names(), []);
  t.same(await app.neuronetes.models?.cache.staging(), [], 'the partial stream went with its staging folder');
});
