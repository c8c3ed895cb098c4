/** `neuronetes agent` as a process: its flags, and a real start on loopback. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import t from 'tap';
import { tempDir } from '../guardrails/harness.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('agent --help lists its own flags', async (t) => {
  const out = spawnSync(process.execPath, [CLI, 'agent', '--help'], { encoding: 'utf8' });
  t.equal(out.status, 0);
  t.match(out.stdout, /--cache-dir\s+the node model cache.*\[\$NEURONETES_CACHE_DIR\] \(default \/var\/lib\/neuronetes\/models\)/);
  t.match(out.stdout, /--node-name\s+.*\[\$NODE_NAME\]/);
  t.match(out.stdout, /--port\s+.*\[\$NEURONETES_AGENT_PORT\] \(default 8081\)/);
  const serve = spawnSync(process.execPath, [CLI, 'serve', '--cache-dir', '/tmp'], { encoding: 'utf8' });
  t.equal(serve.status, 2, 'serve does not take agent flags');
  t.match(serve.stderr, /Unknown option '--cache-dir'/);
});

t.test('agent serves /models over its cache and loads a file:// model', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'seed'), { recursive: true });
  await writeFile(join(dir, 'seed', 'weights.bin'), 'tiny');
  await writeFile(
    join(dir, 'cluster.yaml'),
    `apiVersion: neuronetes.io/v1alpha1\nkind: Model\nmetadata: { name: tiny, namespace: default }\nspec: { weightsURI: 'file://${join(dir, 'seed')}/', size: 1Ki }\n`,
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [CLI, 'agent', '--host', '127.0.0.1', '--port', String(port), '--cache-dir', join(dir, 'cache'), '--snapshot', join(dir, 'cluster.yaml')],
    {
      env: { ...process.env, NODE_NAME: 'gpu-node-7', LOG_LEVEL: 'silent', NEURONETES_FILE_ROOTS: join(dir, 'seed') },
      stdio: 'ignore',
    },
  );
  t.teardown(() => {
    child.kill('SIGTERM');
  });
  const base = `http://127.0.0.1:${port}`;
  let listed: { node: string; cacheDir: string; models: unknown[] } | undefined;
  for (let i = 0; i < 600 && listed === undefined; i++) {
    try {
      const res = await request(`${base}/models`, { signal: AbortSignal.timeout(1000) });
      listed = (await res.body.json()) as typeof listed;
    } catch {
      await sleep(100);
    }
  }
  t.same(listed, { node: 'gpu-node-7', cacheDir: join(dir, 'cache'), models: [] }, 'NODE_NAME and --cache-dir are used');
  const res = await request(`${base}/models/load`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tiny' }),
    signal: AbortSignal.timeout(5000),
  });
  t.equal(res.statusCode, 200);
  t.match(await res.body.json(), { status: 'loaded', loader: 'file', node: 'gpu-node-7', files: 1, bytes: 4 });
});

t.test('agent --publish-to-node needs an API server to publish to', async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', KUBECONFIG: '' };
  delete env['KUBERNETES_SERVICE_HOST'];
  const none = spawnSync(process.execPath, [CLI, 'agent', '--publish-to-node'], { encoding: 'utf8', env });
  t.equal(none.status, 1);
  t.match(none.stderr, /--publish-to-node needs in-cluster config \(KUBERNETES_SERVICE_HOST\) or --kubeconfig/);
  const missing = spawnSync(process.execPath, [CLI, 'agent', '--publish-to-node', '--kubeconfig', '/nonexistent/kubeconfig'], { encoding: 'utf8', env });
  t.equal(missing.status, 1);
  t.match(missing.stderr, /ENOENT.*\/nonexistent\/kubeconfig/);
  const bad = spawnSync(process.execPath, [CLI, 'agent'], { encoding: 'utf8', env: { ...env, NEURONETES_PUBLISH_TO_NODE: 'maybe' } });
  t.match(bad.stderr, /--publish-to-node must be true or false, not "maybe"/);
});
