/**
 * The node agent's Kubernetes CachedModelsPublisher against a real kube-apiserver (+ etcd): the
 * Node's `neuronetes.io/cached-models` annotation merge-patched as the shipped agent ServiceAccount
 * (the rest of the Node untouched), errors carrying the API's words, and `neuronetes agent
 * --publish-to-node --kubeconfig` wiring it end to end.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import t from 'tap';
import { request } from 'undici';
import { Annotations } from '../../src/api/neuronetes.ts';
import { apiErrorText } from '../../src/cluster/kube-api.ts';
import { NodeAnnotationPublisher } from '../../src/models/node-annotation-publisher.ts';
import { tempDir } from '../helpers/test-app.ts';
import { eventually, findKubeBinaries, freePort, startControlPlane, type ControlPlane } from './control-plane.ts';
import { createGpuNode, shippedServiceAccount } from './kube-fixtures.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(240_000);
  const cp: ControlPlane = await startControlPlane(bins);
  t.teardown(() => cp.stop());
  const kc = cp.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  await createGpuNode(kc, 'gpu-a', { gpus: 1 });
  await core.patchNode(
    { name: 'gpu-a', body: { metadata: { annotations: { 'example.com/keep': 'me' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );

  const asAgent = (await shippedServiceAccount(kc, cp.server, 'neuronetes-agent', 'rbac-agent.yaml'))();
  const annotations = async (): Promise<Record<string, string>> => (await core.readNode({ name: 'gpu-a' })).metadata?.annotations ?? {};

  await t.test('publishes as the agent ServiceAccount; only its own key changes', async (t) => {
    const publisher = new NodeAnnotationPublisher(asAgent);
    await publisher.publish('gpu-a', ['llama', 'mistral']);
    t.match(await annotations(), { [Annotations.cachedModels]: 'llama,mistral', 'example.com/keep': 'me' });
    await publisher.publish('gpu-a', []);
    t.equal((await annotations())[Annotations.cachedModels], '', 'an empty cache is said, not left stale');
    await t.rejects(publisher.publish('gpu-zz', ['llama']), /annotating Node gpu-zz with its cached models failed: 404: nodes "gpu-zz" not found/);
    const denied = await asAgent
      .makeApiClient(CoreV1Api)
      .deleteNode({ name: 'gpu-a' })
      .then(
        () => 'allowed',
        (e: unknown) => apiErrorText(e),
      );
    t.match(denied, /^403: /, 'patch, not delete');
  });

  await t.test('agent --publish-to-node --kubeconfig: a loaded model shows on the Node', async (t) => {
    const dir = await tempDir(t);
    await mkdir(join(dir, 'seed'), { recursive: true });
    await writeFile(join(dir, 'seed', 'weights.bin'), 'tiny');
    await writeFile(
      join(dir, 'cluster.yaml'),
      `apiVersion: neuronetes.io/v1alpha1\nkind: Model\nmetadata: { name: tiny, namespace: default }\nspec: { weightsURI: 'file://${join(dir, 'seed')}/', size: 1Ki }\n`,
    );
    const port = await freePort();
    const args = [
      CLI,
      'agent',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--cache-dir',
      join(dir, 'cache'),
      '--snapshot',
      join(dir, 'cluster.yaml'),
      '--node-name',
      'gpu-a',
      '--kubeconfig',
      cp.kubeconfigPath,
      '--publish-to-node',
    ];
    const child = spawn(process.execPath, args, { env: { ...process.env, LOG_LEVEL: 'silent', NEURONETES_FILE_ROOTS: join(dir, 'seed') }, stdio: 'ignore' });
    t.teardown(() => void child.kill('SIGTERM'));
    const base = `http://127.0.0.1:${port}`;
    await eventually(
      'the agent to listen',
      async () => {
        const res = await request(`${base}/models`, { signal: AbortSignal.timeout(1_000) });
        await res.body.dump();
        return res.statusCode === 200 ? true : undefined;
      },
      60_000,
    );
    const res = await request(`${base}/models/load`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tiny' }),
      signal: AbortSignal.timeout(10_000),
    });
    t.equal(res.statusCode, 200);
    await res.body.dump();
    await eventually('the annotation', async () => ((await annotations())[Annotations.cachedModels] === 'tiny' ? true : undefined));
    t.pass('the Node says the model is cached');
  });
}
