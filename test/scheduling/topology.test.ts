import t from 'tap';
import type { Node } from '../../src/api/kubernetes.ts';
import type { AgentPool, GpuRequirements } from '../../src/api/neuronetes.ts';
import { topologyPlugin } from '../../extenders/builtin/scheduler/topology.ts';
import { a100, agentPool, node, pod, schedulerContext, verdict, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

const plugin = schedulerPlugin(topologyPlugin);
const pool = (gpu: GpuRequirements): AgentPool => agentPool('p', { gpuRequirements: gpu });
const nvlink2 = pool({ count: 2, type: 'A100', memory: '80Gi', topology: { locality: 'nvlink' } });
const fast = pool({ count: 2, topology: { locality: 'nvlink', minBandwidth: '900Gi' } });

interface Case {
  name: string;
  pool?: AgentPool;
  node: Node;
  passed: boolean;
  unresolvable?: boolean;
  reason?: string;
}

const cases: Case[] = [
  { name: 'a pod of no pool passes', node: node('bare'), passed: true },
  { name: 'no locality asked', pool: pool({ count: 4 }), node: node('bare'), passed: true },
  { name: 'locality any', pool: pool({ count: 4, topology: { locality: 'any' } }), node: node('bare'), passed: true },
  { name: 'nvlink on an NVLink node', pool: nvlink2, node: a100('n'), passed: true },
  {
    name: 'nvswitch counts as NVLink (case-insensitively)',
    pool: nvlink2,
    node: a100('n', { labels: { 'neuronetes.io/gpu-topology': 'NVSwitch' } }),
    passed: true,
  },
  {
    name: 'nvlink on a PCIe node',
    pool: nvlink2,
    node: a100('n', { labels: { 'neuronetes.io/gpu-topology': 'pcie' } }),
    passed: false,
    unresolvable: true,
    reason: "needs 2×A100 80Gi joined by NVLink; node's GPUs are on pcie (neuronetes.io/gpu-topology=pcie)",
  },
  {
    name: 'nvlink on a node with no labels',
    pool: pool({ count: 2, topology: { locality: 'nvlink' } }),
    node: node('bare', { gpus: 8 }),
    passed: false,
    unresolvable: true,
    reason:
      'needs 2×GPU joined by NVLink; GPU interconnect unknown: no neuronetes.io/gpu-topology or nvidia.com/gpu.clique label, and instance type (none) is not in the interconnect table',
  },
  {
    name: 'nvlink with too few GPUs on the node',
    pool: nvlink2,
    node: a100('n', { gpus: 1 }),
    passed: false,
    unresolvable: true,
    reason: 'needs all 2 GPUs on one node; node has only 1',
  },
  {
    name: 'same-node with enough GPUs (PCIe is fine)',
    pool: pool({ count: 4, topology: { locality: 'same-node' } }),
    node: node('n', { gpus: 4 }),
    passed: true,
  },
  {
    name: 'same-node with zero allocatable',
    pool: pool({ count: 4, topology: { locality: 'same-node' } }),
    node: node('n', { gpus: 0 }),
    passed: false,
    unresolvable: true,
    reason: 'needs all 4 GPUs on one node; node has none',
  },
  {
    name: 'same-socket is judged as same-node',
    pool: pool({ count: 4, topology: { locality: 'same-socket' } }),
    node: node('n', { gpus: 2 }),
    passed: false,
    unresolvable: true,
  },
  {
    name: 'bandwidth below the minimum',
    pool: fast,
    node: a100('n', { labels: { 'neuronetes.io/gpu-bandwidth': '600Gi' } }),
    passed: false,
    unresolvable: true,
    reason: 'needs 900Gi of GPU interconnect bandwidth; node has less (neuronetes.io/gpu-bandwidth=600Gi)',
  },
  { name: 'bandwidth at the minimum', pool: fast, node: a100('n', { labels: { 'neuronetes.io/gpu-bandwidth': '900Gi' } }), passed: true },
  { name: 'bandwidth not advertised is not checked', pool: fast, node: a100('n'), passed: true },
  {
    name: 'malformed bandwidth label is treated as not advertised',
    pool: fast,
    node: a100('n', { labels: { 'neuronetes.io/gpu-bandwidth': 'fast' } }),
    passed: true,
  },
  { name: 'GPUs in use are not topology’s business', pool: nvlink2, node: a100('busy'), passed: true },
];

t.test('filter', async (t) => {
  for (const c of cases) {
    const { ctx } = schedulerContext({ nodes: [c.node], pods: [pod('x', { node: 'busy', gpus: 8 })], pools: c.pool === undefined ? [] : [c.pool] });
    const v = verdict(plugin.filter(ctx, pod('p'), c.node, c.pool));
    t.equal(v.passed, c.passed, `${c.name}: passed`);
    if (c.unresolvable !== undefined) t.equal(v.unresolvable === true, c.unresolvable, `${c.name}: unresolvable`);
    if (c.reason !== undefined) t.equal(v.reason, c.reason, `${c.name}: reason`);
  }
});

t.test('a malformed minBandwidth on the pool is not checked, and said so', async (t) => {
  const odd = pool({ count: 2, topology: { locality: 'nvlink', minBandwidth: 'fast' } });
  const n = a100('n', { labels: { 'neuronetes.io/gpu-bandwidth': '1Gi' } });
  const { ctx, warnings } = schedulerContext({ nodes: [n], pools: [odd] });
  t.equal(plugin.filter(ctx, pod('p'), n, odd), true);
  t.same(warnings, ['AgentPool agents/p: gpuRequirements.topology.minBandwidth "fast" is not a quantity; bandwidth is not checked']);
});

t.test('score', async (t) => {
  const cases: { name: string; pool?: AgentPool; node: Node; config?: Record<string, unknown>; score: number }[] = [
    { name: 'no pool: neutral', node: a100('n'), score: 50 },
    { name: 'one GPU, no locality: neutral', pool: pool({ count: 1 }), node: a100('n'), score: 50 },
    { name: 'nvlink', pool: pool({ count: 2 }), node: a100('n'), score: 100 },
    { name: 'pcie', pool: pool({ count: 2 }), node: a100('n', { labels: { 'neuronetes.io/gpu-topology': 'pcie' } }), score: 40 },
    { name: 'unknown interconnect', pool: pool({ count: 2 }), node: node('bare'), score: 20 },
    { name: 'unlisted interconnect', pool: pool({ count: 2 }), node: a100('n', { labels: { 'neuronetes.io/gpu-topology': 'infinity-fabric' } }), score: 20 },
    {
      name: 'a locality asked makes even one GPU count',
      pool: pool({ count: 1, topology: { locality: 'same-node' } }),
      node: a100('n', { labels: { 'neuronetes.io/gpu-topology': 'pcie' } }),
      score: 40,
    },
    {
      name: 'configured scores',
      pool: pool({ count: 2 }),
      node: a100('n', { labels: { 'neuronetes.io/gpu-topology': 'pcie' } }),
      config: { interconnectScores: { pcie: 70 } },
      score: 70,
    },
    { name: 'configured unknown score', pool: pool({ count: 2 }), node: node('bare'), config: { unknownInterconnectScore: 0 }, score: 0 },
  ];
  for (const c of cases) {
    const { ctx } = schedulerContext({ nodes: [c.node], pools: c.pool === undefined ? [] : [c.pool] });
    t.equal(schedulerPlugin(topologyPlugin, c.config).score(ctx, pod('p'), c.node, c.pool), c.score, c.name);
  }
});

t.test('out-of-range scores and unreadable interconnect names are rejected, naming them', async (t) => {
  const error = t.throws(() =>
    schedulerPlugin(topologyPlugin, { interconnectScores: { pcie: 400 }, unknownInterconnectScore: -1, instanceInterconnects: { 'g6.': 'PCIe bus' } }),
  ) as Error;
  t.match(error.message, 'config.interconnectScores.pcie is 400; it must be <= 100');
  t.match(error.message, 'config.unknownInterconnectScore is -1; it must be >= 0');
  t.match(error.message, 'config.instanceInterconnects.g6. is "PCIe bus"; it must match pattern');
});
