import t from 'tap';
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { gpuFitPlugin } from '../../extenders/builtin/scheduler/gpu-fit.ts';
import type { FilterVerdict } from '../../src/plugins/types.ts';
import { a100, agentPool, node, pod, schedulerContext, verdict, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

const plugin = schedulerPlugin(gpuFitPlugin);
const pending = pod('p');
const needs2 = agentPool('code', { gpuRequirements: { count: 2, type: 'A100', memory: '80Gi' } });

interface FilterCase {
  name: string;
  pool?: AgentPool;
  nodes: Node[];
  pods?: Pod[];
  /** The node judged; defaults to the first of `nodes`. */
  judge?: Node;
  passed: boolean;
  unresolvable?: boolean;
  reason?: string;
}

const filterCases: FilterCase[] = [
  { name: 'a pod of no pool passes', nodes: [node('bare')], passed: true },
  { name: 'a pool asking no GPUs passes', pool: agentPool('cpu'), nodes: [node('bare')], passed: true },
  { name: 'a pool asking 0 GPUs passes', pool: agentPool('zero', { gpuRequirements: { count: 0, type: 'A100' } }), nodes: [node('bare')], passed: true },
  { name: 'an empty A100 node fits', pool: needs2, nodes: [a100('n')], passed: true },
  { name: 'GPU type is compared case-insensitively', pool: needs2, nodes: [a100('n', { labels: { 'neuronetes.io/gpu-type': 'a100' } })], passed: true },
  {
    name: 'a node with no labels is unresolvable',
    pool: needs2,
    nodes: [node('bare', { gpus: 8 })],
    passed: false,
    unresolvable: true,
    reason: 'needs 2×A100 80Gi; GPU type unknown: no neuronetes.io/gpu-type or nvidia.com/gpu.product label',
  },
  {
    name: 'wrong GPU type',
    pool: needs2,
    nodes: [a100('n', { labels: { 'neuronetes.io/gpu-type': 'H100' } })],
    passed: false,
    unresolvable: true,
    reason: 'needs A100 GPUs, node has H100',
  },
  {
    name: 'too little memory per GPU',
    pool: needs2,
    nodes: [a100('n', { labels: { 'neuronetes.io/gpu-memory': '40Gi' } })],
    passed: false,
    unresolvable: true,
    reason: "needs 80Gi per GPU, node's A100 GPUs have 40Gi (neuronetes.io/gpu-memory=40Gi)",
  },
  {
    name: 'more memory than needed is fine (other units)',
    pool: needs2,
    nodes: [a100('n', { labels: { 'neuronetes.io/gpu-memory': '141G' } })],
    passed: true,
  },
  {
    name: 'no memory label',
    pool: needs2,
    nodes: [a100('n', { labels: { 'neuronetes.io/gpu-memory': '' } })],
    passed: false,
    unresolvable: true,
    reason: 'needs 80Gi per GPU; GPU memory unknown: no neuronetes.io/gpu-memory or nvidia.com/gpu.memory label',
  },
  {
    name: 'malformed memory label is unknown, with a clear reason',
    pool: needs2,
    nodes: [a100('n', { labels: { 'neuronetes.io/gpu-memory': 'lots' } })],
    passed: false,
    unresolvable: true,
    reason: 'needs 80Gi per GPU; GPU memory unknown: neuronetes.io/gpu-memory "lots" is not a quantity',
  },
  {
    name: 'malformed memory label does not matter to a pool asking no memory',
    pool: agentPool('any', { gpuRequirements: { count: 1, type: 'A100' } }),
    nodes: [a100('n', { labels: { 'neuronetes.io/gpu-memory': 'lots' } })],
    passed: true,
  },
  {
    name: 'zero allocatable',
    pool: needs2,
    nodes: [a100('n', { gpus: 0 })],
    passed: false,
    unresolvable: true,
    reason: 'needs 2×A100 80Gi, node has no allocatable nvidia.com/gpu',
  },
  {
    name: 'no allocatable GPUs at all',
    pool: needs2,
    nodes: [node('n', { labels: { 'neuronetes.io/gpu-type': 'A100', 'neuronetes.io/gpu-memory': '80Gi' } })],
    passed: false,
    unresolvable: true,
    reason: 'needs 2×A100 80Gi, node has no allocatable nvidia.com/gpu',
  },
  {
    name: 'fewer GPUs than one replica needs',
    pool: needs2,
    nodes: [a100('n', { gpus: 1 })],
    passed: false,
    unresolvable: true,
    reason: 'needs 2×A100 80Gi, node has only 1 GPU allocatable',
  },
  {
    name: 'malformed allocatable',
    pool: needs2,
    nodes: [a100('n', { gpus: 'x' })],
    passed: false,
    unresolvable: true,
    reason: 'needs 2×A100 80Gi; allocatable nvidia.com/gpu "x" is not a whole number',
  },
  {
    name: 'GPUs in use are a shortfall, not unresolvable',
    pool: needs2,
    nodes: [a100('n')],
    pods: [pod('a', { node: 'n', gpus: 4 }), pod('b', { node: 'n', gpus: 3 })],
    passed: false,
    unresolvable: false,
    reason: 'needs 2×A100 80Gi, node has 1 free (7 of 8 in use)',
  },
  {
    name: 'pods of other namespaces hold GPUs too',
    pool: needs2,
    nodes: [a100('n')],
    pods: [pod('a', { node: 'n', gpus: 6, namespace: 'training' }), pod('b', { node: 'n', gpus: 1 })],
    passed: false,
    unresolvable: false,
    reason: 'needs 2×A100 80Gi, node has 1 free (7 of 8 in use)',
  },
  {
    name: 'terminated pods are not counted',
    pool: needs2,
    nodes: [a100('n')],
    pods: [
      pod('done', { node: 'n', gpus: 4, phase: 'Succeeded' }),
      pod('crashed', { node: 'n', gpus: 4, phase: 'Failed' }),
      pod('run', { node: 'n', gpus: 6 }),
    ],
    passed: true,
  },
  { name: 'pending pods hold nothing', pool: needs2, nodes: [a100('n')], pods: [pod('waiting', { gpus: 8 })], passed: true },
  {
    name: 'requests given only as limits count',
    pool: needs2,
    nodes: [a100('n')],
    pods: [pod('a', { node: 'n', gpus: 7, limitsOnly: true })],
    passed: false,
    reason: 'needs 2×A100 80Gi, node has 1 free (7 of 8 in use)',
  },
  {
    name: 'an init container asking more than the containers sets the request',
    pool: needs2,
    nodes: [a100('n')],
    pods: [pod('a', { node: 'n', gpus: 1, initGpus: 7 })],
    passed: false,
    reason: 'needs 2×A100 80Gi, node has 1 free (7 of 8 in use)',
  },
  {
    name: 'malformed GPU requests of bound pods count as none',
    pool: needs2,
    nodes: [a100('n')],
    pods: [{ ...pod('a', { node: 'n' }), spec: { nodeName: 'n', containers: [{ resources: { requests: { 'nvidia.com/gpu': 'many' } } }] } }],
    passed: true,
  },
  {
    name: 'a MIG pool is checked for type only (slices are the mig plugin’s)',
    pool: agentPool('triage', { migProfile: '2g.10gb', gpuRequirements: { count: 1, type: 'A100', memory: '80Gi' } }),
    nodes: [a100('n', { gpus: 2, labels: { 'neuronetes.io/gpu-memory': '40Gi' } })],
    pods: [pod('a', { node: 'n', gpus: 2 })],
    passed: true,
  },
  {
    name: 'a MIG pool on the wrong GPU type',
    pool: agentPool('triage', { migProfile: '2g.10gb', gpuRequirements: { count: 1, type: 'A100' } }),
    nodes: [a100('n', { labels: { 'neuronetes.io/gpu-type': 'L4' } })],
    passed: false,
    unresolvable: true,
    reason: 'needs A100 GPUs, node has L4',
  },
  {
    name: 'a pool with no GPU type takes any GPU',
    pool: agentPool('any', { gpuRequirements: { count: 2 } }),
    nodes: [node('t4', { gpus: 4, labels: { 'neuronetes.io/gpu-type': 'T4' } })],
    passed: true,
  },
  {
    name: 'a pool with no GPU type names GPUs generically',
    pool: agentPool('any', { gpuRequirements: { count: 2 } }),
    nodes: [node('t4', { gpus: 1 })],
    passed: false,
    unresolvable: true,
    reason: 'needs 2×GPU, node has only 1 GPU allocatable',
  },
  {
    name: 'full-node mode: a node the cache does not know is judged from the Node sent',
    pool: needs2,
    nodes: [],
    pods: [pod('a', { node: 'fresh', gpus: 7 })],
    judge: a100('fresh'),
    passed: false,
    reason: 'needs 2×A100 80Gi, node has 1 free (7 of 8 in use)',
  },
  {
    name: 'full-node mode: a node the cache knows is judged by its cached facts',
    pool: needs2,
    nodes: [a100('known')],
    judge: node('known'),
    passed: true,
  },
];

t.test('filter', async (t) => {
  for (const c of filterCases) {
    const { ctx } = schedulerContext({ nodes: c.nodes, pods: c.pods ?? [], pools: c.pool === undefined ? [] : [c.pool] });
    const judged = c.judge ?? (c.nodes[0] as Node);
    const v = verdict(plugin.filter(ctx, pending, judged, c.pool));
    t.equal(v.passed, c.passed, `${c.name}: passed`);
    if (c.unresolvable !== undefined) t.equal(v.unresolvable === true, c.unresolvable, `${c.name}: unresolvable`);
    if (c.reason !== undefined) t.equal(v.reason, c.reason, `${c.name}: reason`);
  }
});

t.test('a malformed memory requirement on the pool is not checked, and said so once', async (t) => {
  const pool = agentPool('odd', { gpuRequirements: { count: 1, type: 'A100', memory: 'lots' } });
  const { ctx, warnings } = schedulerContext({ nodes: [a100('n', { labels: { 'neuronetes.io/gpu-memory': '1Gi' } })], pools: [pool] });
  for (let i = 0; i < 3; i++) t.equal(plugin.filter(ctx, pending, a100('n'), pool), true);
  t.same(warnings, ['AgentPool agents/odd: gpuRequirements.memory "lots" is not a quantity; GPU memory is not checked']);
});

interface ScoreCase {
  name: string;
  pool?: AgentPool;
  node: Node;
  pods?: Pod[];
  config?: Record<string, unknown>;
  score: number;
}

const scoreCases: ScoreCase[] = [
  { name: 'no pool: neutral', node: a100('n'), score: 50 },
  { name: 'no GPUs asked: neutral', pool: agentPool('cpu'), node: a100('n'), score: 50 },
  { name: 'MIG pool: neutral', pool: agentPool('m', { migProfile: '1g.5gb', gpuRequirements: { count: 1 } }), node: a100('n'), score: 50 },
  { name: 'pack: 6 of 8 in use after placement', pool: needs2, node: a100('n'), pods: [pod('a', { node: 'n', gpus: 4 })], score: 75 },
  { name: 'pack: an empty node scores low', pool: needs2, node: a100('n'), score: 25 },
  { name: 'pack: filling the node scores 100', pool: needs2, node: a100('n'), pods: [pod('a', { node: 'n', gpus: 6 })], score: 100 },
  {
    name: 'spread: 2 of 8 free after placement',
    pool: needs2,
    node: a100('n'),
    pods: [pod('a', { node: 'n', gpus: 4 })],
    config: { strategy: 'spread' },
    score: 25,
  },
  { name: 'spread: an empty node scores high', pool: needs2, node: a100('n'), config: { strategy: 'spread' }, score: 75 },
  { name: 'no room: 0', pool: needs2, node: a100('n'), pods: [pod('a', { node: 'n', gpus: 7 })], score: 0 },
  { name: 'no GPUs: 0', pool: needs2, node: node('cpu'), score: 0 },
];

t.test('score', async (t) => {
  for (const c of scoreCases) {
    const { ctx } = schedulerContext({ nodes: [c.node], pods: c.pods ?? [], pools: c.pool === undefined ? [] : [c.pool] });
    t.equal(schedulerPlugin(gpuFitPlugin, c.config).score(ctx, pending, c.node, c.pool), c.score, c.name);
  }
});

t.test('a bad strategy or an unknown key is rejected, naming the allowed values', async (t) => {
  const error = t.throws(() => schedulerPlugin(gpuFitPlugin, { strategy: 'stack', extra: 1 })) as Error;
  t.match(error.message, 'config.strategy is "stack"; allowed values: "pack", "spread"');
  t.match(error.message, 'config.extra is not a setting of this plugin; known keys: strategy');
});

t.test('nodes sharing the facts a reason names share one verdict; other facts or calls get their own', async (t) => {
  const h100 = (name: string): Node => a100(name, { labels: { 'neuronetes.io/gpu-type': 'H100' } });
  const l4 = a100('l', { labels: { 'neuronetes.io/gpu-type': 'L4' } });
  const nodes = [h100('h1'), h100('h2'), l4, a100('busy1'), a100('busy2'), a100('busy3')];
  const pods = [pod('a', { node: 'busy1', gpus: 7 }), pod('b', { node: 'busy2', gpus: 7 }), pod('c', { node: 'busy3', gpus: 8 })];
  const needs4 = agentPool('big', { gpuRequirements: { count: 4, type: 'A100', memory: '80Gi' } });
  const { ctx } = schedulerContext({ nodes, pods, pools: [needs2, needs4] });
  const judge = (n: Node, pool = needs2, call = ctx): FilterVerdict => verdict(plugin.filter(call, pending, n, pool));
  const [h1, h2, l, busy1, busy2, busy3] = nodes.map((n) => judge(n));
  t.equal(h1, h2, 'two H100 nodes: the same verdict object');
  t.not(h1, l, 'an L4 node: a verdict of its own');
  t.equal(l?.reason, 'needs A100 GPUs, node has L4');
  t.equal(busy1, busy2, 'the same GPUs in use: the same shortfall');
  t.not(busy1, busy3);
  t.equal(busy3?.reason, 'needs 2×A100 80Gi, node has 0 free (8 of 8 in use)');
  const next = schedulerContext({ nodes, pods, pools: [needs2, needs4] }).ctx;
  const other = judge(nodes[0] as Node, needs4, next);
  t.not(other, h1, 'another call: its own verdicts');
  t.equal(judge(nodes[3] as Node, needs4, next).reason, 'needs 4×A100 80Gi, node has 1 free (7 of 8 in use)', 'the reason names that call’s pool');
});
