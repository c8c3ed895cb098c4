/**
 * The model status controller over a fake cluster: phase, cachedNodes and the Cached condition
 * follow the Nodes' cached-models annotations, a status is written only when it changed, one Model
 * whose patch fails does not stop the others, a follower reads and writes nothing, and cluster changes
 * start a round after the quiet time. The real API server runs it in test/e2e/model-status.test.ts.
 */
import { pino } from 'pino';
import t from 'tap';
import type { Node } from '../../src/api/kubernetes.ts';
import { Annotations, type Model } from '../../src/api/neuronetes.ts';
import type { ClusterView } from '../../src/cluster/cluster-view.ts';
import { ModelStatusController, type ModelStatus, type ModelStatusSource } from '../../src/models/model-status.ts';
import { clusterView, cpuNode, model } from '../../src/testing/index.ts';

const log = pino({ level: 'silent' });

const node = (name: string, cached?: string): Node =>
  cpuNode({ name, ...(cached !== undefined ? { annotations: { [Annotations.cachedModels]: cached } } : {}) });

/** A cluster whose Models take the statuses patched into them, as the API server and informer would. */
class FakeCluster implements ModelStatusSource {
  nodes: Node[];
  models: Model[];
  leader = true;
  readonly failing = new Set<string>();
  readonly patches: { name: string; status: Partial<ModelStatus> }[] = [];
  readonly #listeners = new Set<(view: ClusterView) => void>();

  constructor(nodes: Node[], models: Model[]) {
    this.nodes = nodes;
    this.models = models;
  }
  view(): ClusterView {
    return clusterView({ nodes: this.nodes, models: this.models });
  }
  isLeader(): boolean {
    return this.leader;
  }
  onChange(listener: (view: ClusterView) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  changed(): void {
    for (const listener of this.#listeners) listener(this.view());
  }
  async patchModelStatus(namespace: string, name: string, status: Partial<ModelStatus>): Promise<void> {
    await Promise.resolve();
    if (this.failing.has(name)) throw new Error(`patching status of Model ${namespace}/${name} failed: 500`);
    this.patches.push({ name, status });
    this.models = this.models.map((m) => (m.metadata.name === name ? { ...m, status: { ...m.status, ...status } } : m));
  }
  status(name: string): ModelStatus | undefined {
    return this.models.find((m) => m.metadata.name === name)?.status;
  }
}

const cachedCondition = (status: ModelStatus | undefined): NonNullable<ModelStatus['conditions']>[number] | undefined =>
  status?.conditions?.find((c) => c.type === 'Cached');

t.test('phase, sorted cachedNodes and the Cached condition come from the annotations', async (t) => {
  const cluster = new FakeCluster(
    [node('gpu-2', 'llama'), node('gpu-1', ' llama , mistral '), node('cpu-1')],
    [model({ name: 'llama' }), model({ name: 'mistral' }), model({ name: 'qwen' })],
  );
  const controller = new ModelStatusController({ cluster, intervalMs: 60_000, log, now: () => Date.parse('2026-12-03T10:00:00Z') });
  const results = await controller.runOnce();
  t.same(Object.fromEntries(results), { 'default/llama': 'updated', 'default/mistral': 'updated', 'default/qwen': 'updated' });
  t.same(cluster.status('llama')?.phase, 'Cached');
  t.same(cluster.status('llama')?.cachedNodes, [
    { nodeName: 'gpu-1', status: 'Cached' },
    { nodeName: 'gpu-2', status: 'Cached' },
  ]);
  t.same(cachedCondition(cluster.status('llama')), {
    type: 'Cached',
    status: 'True',
    reason: 'CachedOnNodes',
    message: 'on 2 nodes: gpu-1, gpu-2',
    lastTransitionTime: '2026-12-03T10:00:00.000Z',
  });
  t.same(cachedCondition(cluster.status('mistral'))?.message, 'on 1 node: gpu-1');
  t.same(cluster.status('qwen')?.phase, 'NotCached');
  t.same(cluster.status('qwen')?.cachedNodes, []);
  t.match(cachedCondition(cluster.status('qwen')), { status: 'False', reason: 'NotCached' });
  t.notOk('loadTime' in (cluster.status('llama') ?? {}) || 'lastUsed' in (cluster.status('llama') ?? {}), 'no invented load or use times');
});

t.test('writes only what changed; a flip moves lastTransitionTime, a new node list does not', async (t) => {
  let now = Date.parse('2026-12-03T10:00:00Z');
  const other = { type: 'Pinned', status: 'True', reason: 'Operator' };
  const cluster = new FakeCluster([node('gpu-1', 'llama')], [model({ name: 'llama' }), { ...model({ name: 'qwen' }), status: { conditions: [other] } }]);
  const controller = new ModelStatusController({ cluster, intervalMs: 60_000, log, now: () => now });
  await controller.runOnce();
  cluster.patches.length = 0;
  now += 60_000;
  t.same(Object.fromEntries(await controller.runOnce()), { 'default/llama': 'unchanged', 'default/qwen': 'unchanged' });
  t.same(cluster.patches, [], 'nothing patched when nothing changed');

  cluster.nodes = [node('gpu-1', 'llama'), node('gpu-2', 'llama')];
  t.same(Object.fromEntries(await controller.runOnce()), { 'default/llama': 'updated', 'default/qwen': 'unchanged' });
  t.same(cachedCondition(cluster.status('llama'))?.lastTransitionTime, '2026-12-03T10:00:00.000Z', 'still True: the transition time stays');
  t.same(cachedCondition(cluster.status('llama'))?.message, 'on 2 nodes: gpu-1, gpu-2');

  cluster.nodes = [node('gpu-1', ''), node('gpu-2')];
  await controller.runOnce();
  t.same(cluster.status('llama')?.phase, 'NotCached');
  t.same(cluster.status('llama')?.cachedNodes, []);
  t.same(cachedCondition(cluster.status('llama'))?.lastTransitionTime, '2026-12-03T10:01:00.000Z', 'flipped to False: a new transition time');
  t.same(cluster.status('qwen')?.conditions?.[0], other, "other writers' conditions are kept");
});

t.test('a Model whose patch fails is retried next round; the others go on', async (t) => {
  const cluster = new FakeCluster([node('gpu-1', 'a,b,c')], [model({ name: 'a' }), model({ name: 'b' }), model({ name: 'c' })]);
  cluster.failing.add('b');
  const controller = new ModelStatusController({ cluster, intervalMs: 60_000, log });
  t.same(Object.fromEntries(await controller.runOnce()), { 'default/a': 'updated', 'default/b': 'failed', 'default/c': 'updated' });
  cluster.failing.clear();
  t.same(Object.fromEntries(await controller.runOnce()), { 'default/a': 'unchanged', 'default/b': 'updated', 'default/c': 'unchanged' });
  t.same(cluster.status('b')?.phase, 'Cached');
});

t.test('a follower reads, computes and writes nothing; leadership lost mid-round stops the round', async (t) => {
  const cluster = new FakeCluster([node('gpu-1', 'a')], [model({ name: 'a' })]);
  cluster.leader = false;
  let views = 0;
  let clock = 0;
  const view = cluster.view.bind(cluster);
  cluster.view = (): ClusterView => {
    views++;
    return view();
  };
  const now = (): number => {
    clock++;
    return Date.now();
  };
  const controller = new ModelStatusController({ cluster, intervalMs: 60_000, log, now });
  t.same((await controller.runOnce()).size, 0);
  t.same([views, clock, cluster.patches], [0, 0, []], 'no view read, no time taken, no patch');
  cluster.leader = true;
  t.same(Object.fromEntries(await controller.runOnce()), { 'default/a': 'updated' }, 'the same controller works once it leads');
  t.same([views, clock], [1, 1]);

  // Leadership ends while the first Model's patch is in flight: the second is not written.
  const losing = new FakeCluster([node('gpu-1', 'a,b')], [model({ name: 'a' }), model({ name: 'b' })]);
  const patch = losing.patchModelStatus.bind(losing);
  losing.patchModelStatus = async (namespace, name, status): Promise<void> => {
    losing.leader = false;
    await patch(namespace, name, status);
  };
  t.same([...(await new ModelStatusController({ cluster: losing, intervalMs: 60_000, log }).runOnce()).keys()], ['default/a']);
  t.same(
    losing.patches.map((p) => p.name),
    ['a'],
  );
});

t.test('the condition names ten nodes and counts the rest; cachedNodes lists them all', async (t) => {
  const names = Array.from({ length: 12 }, (_, i) => `n-${String(i + 1).padStart(2, '0')}`);
  const cluster = new FakeCluster(
    names.map((n) => node(n, 'a')),
    [model({ name: 'a' })],
  );
  await new ModelStatusController({ cluster, intervalMs: 60_000, log }).runOnce();
  t.same(cachedCondition(cluster.status('a'))?.message, `on 12 nodes: ${names.slice(0, 10).join(', ')} and 2 more`);
  t.same(cluster.status('a')?.cachedNodes?.length, 12);
});

t.test('start: a round at once, another after a change and the quiet time, none after close', async (t) => {
  const cluster = new FakeCluster([node('gpu-1')], [model({ name: 'a' })]);
  const controller = new ModelStatusController({ cluster, intervalMs: 3_600_000, changeDelayMs: 20, log });
  const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  controller.start();
  await settle(30);
  t.same(
    cluster.patches.map((p) => p.status.phase),
    ['NotCached'],
    'the first round runs at start',
  );
  cluster.nodes = [node('gpu-1', 'a')];
  cluster.changed();
  cluster.changed();
  await settle(60);
  t.same(
    cluster.patches.map((p) => p.status.phase),
    ['NotCached', 'Cached'],
    'a change starts a round',
  );
  await controller.close();
  cluster.nodes = [node('gpu-1')];
  cluster.changed();
  await settle(60);
  t.same(cluster.patches.length, 2, 'nothing after close');
});
