/**
 * The model status controller against a real kube-apiserver (+ etcd), the service running as the
 * shipped serve ServiceAccount (so `patch` on models/status is what the manifests grant): a Model's
 * status.phase, status.cachedNodes and Cached condition follow Nodes' neuronetes.io/cached-models
 * annotations being added and removed (as the node agent writes them), and `kubectl get nnmodel`'s
 * Phase column (the Table the API server renders) shows the phase.
 */
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { Agent, request } from 'undici';
import { Annotations, type Model } from '../../src/api/neuronetes.ts';
import { KubernetesSource } from '../../src/cluster/kubernetes-source.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { buildApp } from '../../src/server/app.ts';
import { eventually, findKubeBinaries } from './control-plane.ts';
import { createCustom, createGpuNode, crd, shippedServiceAccount, startAgentCluster } from './kube-fixtures.ts';

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(60_000);
  const ns = 'agents';
  const { cp, kc } = await startAgentCluster(t, bins, ns);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const asServe = await shippedServiceAccount(kc, cp.server, 'neuronetes-extender', 'rbac-serve.yaml');
  const log = pino({ level: process.env['E2E_LOG'] ?? 'silent' });

  const annotate = async (node: string, models: string | null): Promise<void> => {
    // null removes the annotation (merge patch), as a node whose agent never published.
    const body = { metadata: { annotations: { [Annotations.cachedModels]: models } } };
    await core.patchNode({ name: node, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  };
  const readModel = async (name: string): Promise<Model> => (await custom.getNamespacedCustomObject({ ...crd('models'), namespace: ns, name })) as Model;
  const modelWith = (name: string, check: (m: Model) => boolean): Promise<Model> =>
    eventually(`Model ${name}'s status`, async () => {
      const m = await readModel(name);
      return check(m) ? m : undefined;
    });
  const nodesOf = (m: Model): string[] => (m.status?.cachedNodes ?? []).map((c) => c.nodeName);

  for (const name of ['gpu-2', 'gpu-1', 'gpu-3']) await createGpuNode(kc, name, { gpus: 8 });
  await annotate('gpu-2', 'llama');
  for (const name of ['llama', 'qwen'])
    await createCustom(kc, ns, 'models', {
      apiVersion: 'neuronetes.io/v1alpha1',
      kind: 'Model',
      metadata: { name },
      spec: { weightsURI: `hf://org/${name}`, size: '16Gi' },
    });

  const app = await buildApp({
    cluster: new KubernetesSource({ kubeConfig: asServe(), log, rebuildDelayMs: 20, backoff: { initialMs: 100, maxMs: 1_000 } }),
    logger: log,
    metrics: createMetrics({ defaultMetrics: false }),
    watchConfig: false,
    modelStatus: { intervalMs: 60_000, changeDelayMs: 50 },
  });
  t.teardown(() => app.close());
  await app.ready();

  await t.test('status follows the annotation being added and removed', async (t) => {
    let llama = await modelWith('llama', (m) => m.status?.phase === 'Cached');
    t.same(llama.status?.cachedNodes, [{ nodeName: 'gpu-2', status: 'Cached' }]);
    t.match(
      llama.status?.conditions?.find((c) => c.type === 'Cached'),
      { status: 'True', reason: 'CachedOnNodes', message: 'on 1 node: gpu-2' },
    );
    const qwen = await modelWith('qwen', (m) => m.status?.phase === 'NotCached');
    t.same(qwen.status?.cachedNodes, []);

    await annotate('gpu-1', 'qwen,llama');
    await annotate('gpu-3', 'llama');
    llama = await modelWith('llama', (m) => nodesOf(m).length === 3);
    t.same(nodesOf(llama), ['gpu-1', 'gpu-2', 'gpu-3'], 'sorted by node name');
    t.match(llama.status?.conditions?.find((c) => c.type === 'Cached')?.message, 'on 3 nodes: gpu-1, gpu-2, gpu-3');
    t.same(nodesOf(await modelWith('qwen', (m) => m.status?.phase === 'Cached')), ['gpu-1']);

    await annotate('gpu-1', 'llama');
    await modelWith('qwen', (m) => m.status?.phase === 'NotCached' && nodesOf(m).length === 0);
    await annotate('gpu-1', null);
    await annotate('gpu-2', '');
    await core.deleteNode({ name: 'gpu-3' });
    llama = await modelWith('llama', (m) => m.status?.phase === 'NotCached');
    t.same(llama.status?.cachedNodes, [], 'no node left: annotation removed, emptied, node deleted');
    t.match(
      llama.status?.conditions?.find((c) => c.type === 'Cached'),
      { status: 'False', reason: 'NotCached' },
    );
  });

  await t.test('kubectl get nnmodel shows the phase (the Table the API server renders)', async (t) => {
    await annotate('gpu-1', 'qwen');
    await modelWith('qwen', (m) => m.status?.phase === 'Cached');
    const { body } = await request(`${cp.server}/apis/neuronetes.io/v1alpha1/namespaces/${ns}/models?includeObject=None`, {
      dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
      headers: { authorization: `Bearer ${cp.token}`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
      signal: AbortSignal.timeout(10_000),
    });
    const table = (await body.json()) as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    const phase = table.columnDefinitions.findIndex((c) => c.name === 'Phase');
    t.ok(phase > 0, 'a Phase column');
    const phases = Object.fromEntries(table.rows.map((r) => [r.cells[0], r.cells[phase]]));
    t.same(phases, { llama: 'NotCached', qwen: 'Cached' });
  });
}
