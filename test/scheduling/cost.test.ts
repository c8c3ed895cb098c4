import t from 'tap';
import type { Node } from '../../src/api/kubernetes.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { costPlugin } from '../../extenders/builtin/scheduler/cost.ts';
import { agentPool, node, pod, schedulerContext, verdict, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

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
