/**
 * The capacity stage through POST /autoscaler/decide on app.inject(): the built-in filters count what
 * a scale-up can place on a cluster where the H100s run out (requestUnplaceable on and off), MIG
 * slices, the pool's pending pods, scale-downs skipped, and failing or slow filters giving "capacity
 * unknown" with the count asked for unchanged.
 */
import t, { type Test } from 'tap';
import { Type } from 'typebox';
import { gpuFitPlugin } from '../../extenders/builtin/scheduler/gpu-fit.ts';
import { migPlugin } from '../../extenders/builtin/scheduler/mig.ts';
import { nodeSelectorPlugin } from '../../extenders/builtin/scheduler/node-selector.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { definePlugin, type PluginDefinition } from '../../src/plugins/definition.ts';
import { agentPool, gpuNode, pod } from '../../src/testing/builders.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const NS = 'test';
const WANTS = 'test.neuronetes.io/wants';

/** Recommends what the pool's annotation says: one app serves every case. */
const wants = definePlugin({
  type: 'autoscaler',
  name: 'wants',
  config: Type.Object({}, { additionalProperties: false }),
  create: () => ({
    getMetricNames: (): string[] => [],
    calculateReplicas: (_ctx, pool: AgentPool): number => Number(pool.metadata.annotations?.[WANTS]),
  }),
});
const broken = definePlugin({
  type: 'scheduler',
  name: 'broken',
  create: () => ({
    filter: (): boolean => {
      throw new Error('lost its node cache');
    },
  }),
});
const slow = definePlugin({ type: 'scheduler', name: 'slow', create: () => ({ filter: (): Promise<boolean> => new Promise<boolean>(() => undefined) }) });

const h100 = (name: string, gpus: number): ReturnType<typeof gpuNode> => gpuNode({ name, product: 'NVIDIA-H100-80GB-HBM3', memoryMiB: 81920, gpus });
const NODES = [
  // Full: chat's two replicas and one of queued.
  h100('h0', 3),
  h100('h1', 4),
  h100('h2', 4),
  gpuNode({ name: 'a100', gpus: 8 }),
  gpuNode({ name: 'mig', gpus: 1, mig: { strategy: 'mixed', slices: { '1g.10gb': 7 } } }),
];
const PODS = [
  pod({ name: 'chat-0', namespace: NS, pool: 'chat', gpus: 1, nodeName: 'h0' }),
  pod({ name: 'chat-1', namespace: NS, pool: 'chat', gpus: 1, nodeName: 'h0' }),
  pod({ name: 'queued-0', namespace: NS, pool: 'queued', gpus: 1, nodeName: 'h0' }),
  pod({ name: 'queued-1', namespace: NS, pool: 'queued', gpus: 1 }),
  pod({ name: 'queued-2', namespace: NS, pool: 'queued', gpus: 1 }),
  pod({ name: 'other', namespace: NS, mig: { '1g.10gb': 3 }, nodeName: 'mig' }),
];

interface Wanting {
  spec?: Partial<AgentPool['spec']>;
  current?: number;
  requestUnplaceable?: boolean;
}

/** A pool at `current` (default 2) whose autoscaler wants `wanted`, with no rate limit in the way. */
function poolWanting(name: string, wanted: number, o: Wanting = {}): AgentPool {
  const behavior = { scaleUp: { maxChangeAbsolute: 50 } };
  const p = agentPool({
    name,
    namespace: NS,
    minReplicas: 0,
    maxReplicas: 50,
    replicas: o.current ?? 2,
    gpu: { count: 1, type: 'H100', memory: '80Gi' },
    spec: { autoscaling: { behavior, ...(o.requestUnplaceable !== undefined ? { requestUnplaceable: o.requestUnplaceable } : {}) }, ...o.spec },
  });
  p.metadata.annotations = { [WANTS]: String(wanted) };
  return p;
}

interface Stage {
  stage: string;
  input: number;
  output: number;
  reason: string;
  message: string;
}
interface Reply {
  currentReplicas: number;
  desiredReplicas: number;
  placeableReplicas: number | null;
  shortfall: string | null;
  reason: string;
  message: string;
  stages: Stage[];
}

async function app(t: Test, definitions: PluginDefinition[], schedulerPlugins: Record<string, unknown>[] = []): Promise<(pool: AgentPool) => Promise<Reply>> {
  const { app } = await buildTestApp(t, {
    definitions: [wants, gpuFitPlugin, migPlugin, nodeSelectorPlugin, ...definitions],
    cluster: { nodes: NODES, pods: PODS, agentPools: [], agentClasses: [], models: [] },
    config: { 'scheduler-plugins': schedulerPlugins },
  });
  return async (pool: AgentPool): Promise<Reply> => {
    const res = await app.inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool, dryRun: true } });
    t.equal(res.statusCode, 200, res.body.slice(0, 300));
    return res.json<Reply>();
  };
}

const capacityOf = (d: Reply): Stage | undefined => d.stages.find((s) => s.stage === 'capacity');

t.test('the H100s run out: 8 more fit; asked for anyway by default, held with requestUnplaceable: false', async (t) => {
  const decide = await app(t, []);
  const shortfall =
    'wants 12, 10 can be placed: 2 more need 1×H100 80Gi each; ' +
    'gpu-fit on 2 nodes: needs 1×H100 80Gi, node has 0 free (4 of 4 in use); ' +
    'gpu-fit on 1 node: needs 1×H100 80Gi, node has 0 free (3 of 3 in use); ' +
    'gpu-fit on 2 nodes: needs H100 GPUs, node has NVIDIA-A100-SXM4-80GB';

  const on = await decide(poolWanting('chat', 12));
  t.match(on, { currentReplicas: 2, desiredReplicas: 12, placeableReplicas: 10, shortfall, reason: 'Recommended' });
  t.match(capacityOf(on), {
    input: 12,
    output: 12,
    reason: 'CapacityShort',
    message: `${shortfall}; asking for all 12 (requestUnplaceable) so that a cluster autoscaler can add nodes`,
  });
  t.equal(on.stages.at(-1)?.stage, 'capacity', 'the last stage');

  const off = await decide(poolWanting('chat', 12, { requestUnplaceable: false }));
  t.match(off, { desiredReplicas: 10, placeableReplicas: 10, shortfall, reason: 'CapacityLimited' });
  t.match(capacityOf(off), { input: 12, output: 10, reason: 'CapacityLimited', message: `${shortfall}; holding at 10 (requestUnplaceable: false)` });
  t.equal(off.message, capacityOf(off)?.message, 'the decision says why it holds');
});

t.test('everything fits: counting stops at the number wanted', async (t) => {
  const decide = await app(t, []);
  const d = await decide(poolWanting('chat', 6));
  t.match(d, { desiredReplicas: 6, placeableReplicas: 6, shortfall: null });
  t.match(capacityOf(d), { input: 6, output: 6, reason: 'CapacityAvailable', message: 'all 4 more can be placed now' });
});

t.test("the pool's pending pods take room first", async (t) => {
  const decide = await app(t, []);
  // queued: 3 replicas, one bound on h0, two pending; 8 H100s free: the pending two take 2 of them.
  const d = await decide(poolWanting('queued', 12, { current: 3 }));
  t.match(d, { desiredReplicas: 12, placeableReplicas: 9 });
  t.match(d.shortfall, /^wants 12, 9 can be placed \(after the pool's 2 pending pods\): 3 more need 1×H100 80Gi each; /);
});

t.test('MIG slices of the pool’s migProfile', async (t) => {
  const decide = await app(t, []);
  // 7 slices, 3 taken by another pod: 4 free.
  const pool = poolWanting('triage', 8, { spec: { migProfile: '1g.10gb', gpuRequirements: { count: 1 } }, current: 1 });
  const d = await decide(pool);
  t.match(d, { desiredReplicas: 8, placeableReplicas: 5 });
  t.match(
    d.shortfall,
    /^wants 8, 5 can be placed: 3 more need a 1g\.10gb MIG slice each; .*mig on 1 node: needs a 1g\.10gb MIG slice; all 7 on the node are in use/,
  );
});

t.test('a node selector nothing matches: 0 more', async (t) => {
  const decide = await app(t, []);
  const d = await decide(poolWanting('chat', 4, { spec: { scheduling: { nodeSelector: { pool: 'gpu' } } }, requestUnplaceable: false }));
  t.match(d, { desiredReplicas: 2, placeableReplicas: 2 });
  t.match(
    d.shortfall,
    /^wants 4, 2 can be placed: 2 more need 1×H100 80Gi each; node-selector on 5 nodes: pool's nodeSelector wants pool=gpu; node has no pool label$/,
  );
});

t.test('scale-downs and holds are not checked', async (t) => {
  const decide = await app(t, []);
  const down = await decide(poolWanting('chat', 1));
  t.match(down, { placeableReplicas: null, shortfall: null });
  t.match(capacityOf(down), { reason: 'Skipped', message: 'not scaling up: only scale-ups are checked against capacity' });
});

t.test('a failing filter: capacity unknown, the count asked for unchanged', async (t) => {
  for (const failurePolicy of ['Ignore', 'Fail']) {
    const decide = await app(t, [broken], [{ name: 'broken', failurePolicy }]);
    const d = await decide(poolWanting('chat', 12, { requestUnplaceable: false }));
    t.match(d, { desiredReplicas: 12, placeableReplicas: null, shortfall: null }, failurePolicy);
    t.match(capacityOf(d), {
      output: 12,
      reason: 'CapacityUnknown',
      message: /^capacity unknown: scheduler plugin "?broken"? failed.*lost its node cache\)?; 12 is asked for unchanged$/,
    });
  }
});

t.test('a filter that never answers: unknown within its timeout', async (t) => {
  const decide = await app(t, [slow], [{ name: 'slow', timeout: '50ms' }]);
  const started = performance.now();
  const d = await decide(poolWanting('chat', 12, { requestUnplaceable: false }));
  t.ok(performance.now() - started < 2_000, 'answers well within the budget');
  t.match(capacityOf(d), { output: 12, reason: 'CapacityUnknown', message: /scheduler plugin slow timed out/ });
  t.equal(d.desiredReplicas, 12);
});

t.test('a shadow filter does not narrow the count', async (t) => {
  const decide = await app(t, [broken], [{ name: 'broken', mode: 'shadow' }]);
  const d = await decide(poolWanting('chat', 6));
  t.match(capacityOf(d), { reason: 'CapacityAvailable' });
});

t.test('a count that outlasts the decision budget: unknown, not a hang', async (t) => {
  // No filter at all: every replica fits on the first node, so only the budget ends the count.
  const { app } = await buildTestApp(t, {
    definitions: [wants],
    cluster: { nodes: NODES, pods: [], agentPools: [], agentClasses: [], models: [] },
    config: { autoscaler: { requestBudget: '50ms' } },
  });
  const pool = poolWanting('chat', 1_000_000, { spec: { maxReplicas: 1_000_000 }, requestUnplaceable: false });
  pool.spec.autoscaling = { ...pool.spec.autoscaling, behavior: { scaleUp: { maxChangeAbsolute: 1_000_000 } } };
  const res = await app.inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool, dryRun: true } });
  const d = res.json<Reply>();
  t.match(capacityOf(d), {
    reason: 'CapacityUnknown',
    message: /^capacity unknown: the capacity check ran out of its time budget after placing \d+ replicas on 1 node; 1000000 is asked for unchanged$/,
  });
  t.equal(d.desiredReplicas, 1_000_000);
});
