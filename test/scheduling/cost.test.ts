import t from 'tap';
import type { Node } from '../../src/api/kubernetes.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { costPlugin } from '../../extenders/builtin/scheduler/cost.ts';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import type { SchedulerTrace } from '../../src/scheduling/scheduler-trace.ts';
import { namesArgs } from '../helpers/cluster-fixtures.ts';
import { agentPool, node, pod, schedulerContext, verdict, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

type Policy = { enabled: boolean; maxCostPerHour?: number; spotEnabled?: boolean };
const pool = (costOptimization: Policy): AgentPool => agentPool('p', { scheduling: { costOptimization } });
const priced = (cost: string | undefined, labels: Record<string, string> = {}): Node =>
  node('n', { labels: { 'node.kubernetes.io/instance-type': 'g6.xlarge', ...(cost !== undefined ? { 'neuronetes.io/cost-per-hour': cost } : {}), ...labels } });
const spot = { 'karpenter.sh/capacity-type': 'spot' };
const table = { priceTable: { 'g6.xlarge': 0.8, 'p5.48xlarge': 98.32 } };

interface FilterCase {
  name: string;
  pool?: AgentPool;
  node: Node;
  config?: Record<string, unknown>;
  passed: boolean;
  reason?: string;
}

const filterCases: FilterCase[] = [
  { name: 'a pod of no pool passes', node: priced('99', spot), passed: true },
  { name: 'cost optimization off: spot and price do not matter', pool: pool({ enabled: false, maxCostPerHour: 1 }), node: priced('99', spot), passed: true },
  { name: 'a pool without scheduling passes', pool: agentPool('plain'), node: priced('99', spot), passed: true },
  {
    name: 'spot not allowed',
    pool: pool({ enabled: true }),
    node: priced('1', spot),
    passed: false,
    reason: 'spot node (karpenter.sh/capacity-type=spot); the pool does not allow spot (costOptimization.spotEnabled is not true)',
  },
  {
    name: 'GKE spot label, case-insensitive',
    pool: pool({ enabled: true, spotEnabled: false }),
    node: priced('1', { 'cloud.google.com/gke-spot': 'TRUE' }),
    passed: false,
    reason: 'spot node (cloud.google.com/gke-spot=TRUE); the pool does not allow spot (costOptimization.spotEnabled is not true)',
  },
  { name: 'spot allowed', pool: pool({ enabled: true, spotEnabled: true }), node: priced('1', spot), passed: true },
  {
    name: 'on-demand capacity type is not spot',
    pool: pool({ enabled: true }),
    node: priced('1', { 'karpenter.sh/capacity-type': 'on-demand' }),
    passed: true,
  },
  {
    name: 'over the budget',
    pool: pool({ enabled: true, maxCostPerHour: 5 }),
    node: priced('13.35'),
    passed: false,
    reason: 'costs $13.35/h (neuronetes.io/cost-per-hour), the pool allows at most $5.00/h',
  },
  { name: 'at the budget', pool: pool({ enabled: true, maxCostPerHour: 5 }), node: priced('5'), passed: true },
  { name: 'no budget: any price', pool: pool({ enabled: true }), node: priced('1000'), passed: true },
  {
    name: 'price from the table by instance type',
    pool: pool({ enabled: true, maxCostPerHour: 50 }),
    node: priced(undefined, { 'node.kubernetes.io/instance-type': 'p5.48xlarge' }),
    config: table,
    passed: false,
    reason: 'costs $98.32/h (the price table for p5.48xlarge), the pool allows at most $50.00/h',
  },
  {
    name: 'the label wins over the table',
    pool: pool({ enabled: true, maxCostPerHour: 50 }),
    node: priced('40', { 'node.kubernetes.io/instance-type': 'p5.48xlarge' }),
    config: table,
    passed: true,
  },
  // The label overrides the table: unreadable, it leaves the price unknown rather than falling back.
  {
    name: 'malformed cost label does not fall back to the table',
    pool: pool({ enabled: true, maxCostPerHour: 0.5 }),
    node: priced('cheap'),
    config: table,
    passed: true,
  },
  { name: 'unknown price passes (unknown is not expensive)', pool: pool({ enabled: true, maxCostPerHour: 0.5 }), node: priced('cheap'), passed: true },
  { name: 'a node with no labels passes', pool: pool({ enabled: true, maxCostPerHour: 0.5 }), node: node('bare'), config: table, passed: true },
];

t.test('filter', async (t) => {
  for (const c of filterCases) {
    const { ctx } = schedulerContext({ nodes: [c.node], pools: c.pool === undefined ? [] : [c.pool] });
    const v = verdict(schedulerPlugin(costPlugin, c.config).filter(ctx, pod('p'), c.node, c.pool));
    t.equal(v.passed, c.passed, `${c.name}: passed`);
    if (!c.passed) t.equal(v.unresolvable, true, `${c.name}: unresolvable`);
    if (c.reason !== undefined) t.equal(v.reason, c.reason, `${c.name}: reason`);
  }
});

t.test('score', async (t) => {
  const cases: { name: string; pool?: AgentPool; node: Node; config?: Record<string, unknown>; score: number }[] = [
    { name: 'no pool: neutral', node: priced('1'), score: 50 },
    { name: 'cost optimization off: neutral', pool: pool({ enabled: false }), node: priced('1'), score: 50 },
    { name: 'unknown price: neutral', pool: pool({ enabled: true }), node: node('bare'), score: 50 },
    { name: 'reference $10/h: $10 scores 50', pool: pool({ enabled: true }), node: priced('10'), score: 50 },
    { name: 'free scores 100', pool: pool({ enabled: true }), node: priced('0'), score: 100 },
    { name: 'the budget is the reference', pool: pool({ enabled: true, maxCostPerHour: 5 }), node: priced('5'), score: 50 },
    { name: 'a zero budget uses the configured reference', pool: pool({ enabled: true, maxCostPerHour: 0 }), node: priced('10'), score: 50 },
    { name: 'allowed spot gets the bonus', pool: pool({ enabled: true, spotEnabled: true }), node: priced('10', spot), score: 60 },
    { name: 'the bonus is capped at 100', pool: pool({ enabled: true, spotEnabled: true }), node: priced('0', spot), score: 100 },
    {
      name: 'configured reference and bonus',
      pool: pool({ enabled: true, spotEnabled: true }),
      node: priced('20', spot),
      config: { referenceCostPerHour: 20, spotBonus: 5 },
      score: 55,
    },
    { name: 'table price', pool: pool({ enabled: true }), node: priced(undefined), config: { priceTable: { 'g6.xlarge': 10 } }, score: 50 },
  ];
  for (const c of cases) {
    const { ctx } = schedulerContext({ nodes: [c.node], pools: c.pool === undefined ? [] : [c.pool] });
    t.equal(schedulerPlugin(costPlugin, c.config).score(ctx, pod('p'), c.node, c.pool), c.score, c.name);
  }
});

t.test('bad settings are rejected, each naming the key, the value and what is allowed', async (t) => {
  const error = t.throws(() => schedulerPlugin(costPlugin, { priceTable: { 'g6.xlarge': 'cheap' }, referenceCostPerHour: -3, spotBonus: 101 })) as Error;
  t.match(error.message, 'config.priceTable.g6.xlarge is "cheap"; it must be number');
  t.match(error.message, 'config.referenceCostPerHour is -3; it must be > 0');
  t.match(error.message, 'config.spotBonus is 101; it must be <= 100');
});

type Reading = { type: string; current: string; target: string; timestamp?: string };
const sloPool = (sloHeadroomMs: number | undefined, currentMetrics?: Reading[]): AgentPool => ({
  ...agentPool('p', { scheduling: { costOptimization: { enabled: true, ...(sloHeadroomMs !== undefined ? { sloHeadroomMs } : {}) } } }),
  ...(currentMetrics !== undefined ? { status: { currentMetrics } } : {}),
});
const now = (): string => new Date().toISOString();

t.test('sloHeadroomMs: cheaper nodes only while the latency is that far below its target', async (t) => {
  const cases: { name: string; pool: AgentPool; config?: Record<string, unknown>; skip: boolean; note: string | undefined }[] = [
    {
      name: 'no sloHeadroomMs: scores, says nothing',
      pool: sloPool(undefined, [{ type: 'ttft-p95', current: '1.9', target: '2s', timestamp: now() }]),
      skip: false,
      note: undefined,
    },
    {
      name: 'enough headroom',
      pool: sloPool(300, [{ type: 'ttft-p95', current: '1.5', target: '2s', timestamp: now() }]),
      skip: false,
      note: 'ttft-p95 1500ms of a 2000ms target leaves 500ms, at least sloHeadroomMs 300: preferring cheaper nodes',
    },
    {
      name: 'short of headroom',
      pool: sloPool(300, [{ type: 'ttft-p95', current: '1.9', target: '2s', timestamp: now() }]),
      skip: true,
      note: 'ttft-p95 1900ms of a 2000ms target leaves 100ms, under sloHeadroomMs 300: cost steps aside, performance decides',
    },
    {
      name: 'over the target',
      pool: sloPool(0, [{ type: 'TTFT_P95', current: '2.5', target: '2000ms', timestamp: now() }]),
      skip: true,
      note: 'ttft-p95 2500ms of a 2000ms target leaves -500ms, under sloHeadroomMs 0: cost steps aside, performance decides',
    },
    {
      name: 'the tightest of several latency metrics',
      pool: sloPool(300, [
        { type: 'ttft-p95', current: '0.5', target: '2s', timestamp: now() },
        { type: 'e2e-p99', current: '9.8', target: '10s', timestamp: now() },
        { type: 'queue-depth', current: '100', target: '1', timestamp: now() },
      ]),
      config: { latencyMetrics: ['ttft-p95', 'e2e-p99'] },
      skip: true,
      note: 'e2e-p99 9800ms of a 10000ms target leaves 200ms, under sloHeadroomMs 300: cost steps aside, performance decides',
    },
    {
      name: 'no reading: as without sloHeadroomMs, and says so',
      pool: sloPool(300, [{ type: 'queue-depth', current: '3', target: '10', timestamp: now() }]),
      skip: false,
      note: "no fresh latency reading (ttft-p95) in the pool's status: preferring cheaper nodes, sloHeadroomMs 300 unchecked",
    },
    {
      name: 'a stale reading is no reading',
      pool: sloPool(300, [{ type: 'ttft-p95', current: '1.9', target: '2s', timestamp: new Date(Date.now() - 600_000).toISOString() }]),
      skip: false,
      note: "no fresh latency reading (ttft-p95) in the pool's status: preferring cheaper nodes, sloHeadroomMs 300 unchecked",
    },
    {
      name: 'an undated reading is no reading',
      pool: sloPool(300, [{ type: 'ttft-p95', current: '1.9', target: '2s' }]),
      skip: false,
      note: "no fresh latency reading (ttft-p95) in the pool's status: preferring cheaper nodes, sloHeadroomMs 300 unchecked",
    },
  ];
  for (const c of cases) {
    const { ctx } = schedulerContext({ nodes: [priced('1')], pools: [c.pool] });
    const notes: string[] = [];
    const plan = schedulerPlugin(costPlugin, c.config).preScore({ ...ctx, note: (text) => void notes.push(text) }, pod('p'), c.pool);
    t.equal(plan === 'skip', c.skip, `${c.name}: skip`);
    t.same(notes, c.note === undefined ? [] : [c.note], `${c.name}: note`);
  }
});

t.test('prioritize: with the latency short of headroom, the cost score sits out and performance decides; the trace says why', async (t) => {
  // cheap is slow, dear is fast: cost alone prefers cheap, the `speed` scorer dear.
  const cheap = node('cheap', { labels: { 'neuronetes.io/cost-per-hour': '1', speed: '20' } });
  const dear = node('dear', { labels: { 'neuronetes.io/cost-per-hour': '30', speed: '90' } });
  const speed: SchedulerPlugin = { name: () => 'speed', score: (_c, _p, n) => Number(n.metadata.labels?.['speed']) };
  const ask = async (reading: string): Promise<SchedulerTrace> => {
    const pool = sloPool(300, [{ type: 'ttft-p95', current: reading, target: '2s', timestamp: now() }]);
    const cluster = { nodes: [cheap, dear], pods: [], agentPools: [{ ...pool, metadata: { name: 'p', namespace: 'agents' } }], agentClasses: [], models: [] };
    // cost weighs 15 by default: raise it so that, scoring, it outweighs speed.
    const config = { 'scheduler-plugins': [{ name: 'cost', weight: 100 }] };
    const { app } = await buildTestApp(t, { definitions: [costPlugin], plugins: { scheduler: [speed] }, cluster, config });
    const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(pod('p-0', { pool: 'p' }), ['cheap', 'dear']) });
    t.equal(res.statusCode, 200);
    return app.neuronetes.traces.scheduler.list()[0] as SchedulerTrace;
  };
  const roomy = await ask('1.0');
  t.ok((roomy.nodes['cheap']?.score ?? 0) > (roomy.nodes['dear']?.score ?? 0), 'with 1 s of headroom, cheaper wins');
  t.match(
    roomy.plugins.find((p) => p.plugin === 'cost'),
    { note: /leaves 1000ms, at least sloHeadroomMs 300: preferring cheaper nodes/ },
  );
  const tight = await ask('1.9');
  t.ok((tight.nodes['dear']?.score ?? 0) > (tight.nodes['cheap']?.score ?? 0), 'with 100 ms of headroom, faster wins');
  t.match(
    tight.plugins.find((p) => p.plugin === 'cost'),
    { skipped: true, note: /leaves 100ms, under sloHeadroomMs 300: cost steps aside, performance decides/ },
  );
  t.same(tight.nodes['dear']?.scores, { speed: 90, cost: null }, 'cost gave no score');
});
