/** The built-in plugins on nodes labelled only by GPU Feature Discovery and the cloud (no neuronetes.io/* labels). */
import t from 'tap';
import type { Node } from '../../src/api/kubernetes.ts';
import type { SchedulerContext } from '../../src/plugins/types.ts';
import { costPlugin } from '../../extenders/builtin/scheduler/cost.ts';
import { gpuFitPlugin } from '../../extenders/builtin/scheduler/gpu-fit.ts';
import { migPlugin } from '../../extenders/builtin/scheduler/mig.ts';
import { topologyPlugin } from '../../extenders/builtin/scheduler/topology.ts';
import { agentPool, node, pod, schedulerContext, verdict, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

const gfd = (name: string, product: string, mib: number, extra: Record<string, string> = {}, gpus: number | string = 8): Node =>
  node(name, { gpus, labels: { 'nvidia.com/gpu.product': product, 'nvidia.com/gpu.memory': String(mib), 'nvidia.com/gpu.count': String(gpus), ...extra } });

t.test('gpu-fit: type by product words, memory in MiB', async (t) => {
  const plugin = schedulerPlugin(gpuFitPlugin);
  const a100 = agentPool('a', { gpuRequirements: { count: 1, type: 'A100', memory: '80Gi' } });
  const h100 = agentPool('h', { gpuRequirements: { count: 1, type: 'h100' } });
  const cases: [string, ReturnType<typeof agentPool>, Node, boolean, string?][] = [
    ['A100 on an A100 SXM4 80GB', a100, gfd('n', 'NVIDIA-A100-SXM4-80GB', 81920), true],
    ['A100 is not an A10G', a100, gfd('n', 'NVIDIA-A10G', 23028), false, 'needs A100 GPUs, node has NVIDIA-A10G'],
    ['H100 is not an H200', h100, gfd('n', 'NVIDIA-H200', 143771), false, 'needs h100 GPUs, node has NVIDIA-H200'],
    ['h100 (any case) on an H100 HBM3', h100, gfd('n', 'NVIDIA-H100-80GB-HBM3', 81559), true],
    [
      '80Gi is more than an A100 40GB has',
      a100,
      gfd('n', 'NVIDIA-A100-SXM4-40GB', 40960),
      false,
      "needs 80Gi per GPU, node's NVIDIA-A100-SXM4-40GB GPUs have 40Gi (nvidia.com/gpu.memory=40960)",
    ],
    [
      'a malformed GFD memory label',
      a100,
      gfd('n', 'NVIDIA-A100-SXM4-80GB', 0, { 'nvidia.com/gpu.memory': '80GB' }),
      false,
      'needs 80Gi per GPU; GPU memory unknown: nvidia.com/gpu.memory "80GB" is not a positive whole number of MiB',
    ],
    [
      'whole GPUs are not on a single-strategy MIG node',
      agentPool('w', { gpuRequirements: { count: 1, type: 'A100' } }),
      gfd('n', 'NVIDIA-A100-SXM4-40GB-MIG-1g.5gb', 4864, { 'nvidia.com/mig.strategy': 'single' }, 56),
      false,
      "needs 1×A100; node's nvidia.com/gpu are 1g.5gb MIG slices (single strategy), not whole GPUs",
    ],
  ];
  for (const [name, pool, n, passed, reason] of cases) {
    const { ctx } = schedulerContext({ nodes: [n], pools: [pool] });
    const v = verdict(plugin.filter(ctx, pod('p', { pool: pool.metadata.name, gpus: 1 }), n, pool));
    t.equal(v.passed, passed, name);
    if (reason !== undefined) t.equal(v.reason, reason, `${name}: reason`);
  }
});

t.test('gpu-fit leaves a pod asking for a MIG slice to the mig plugin', async (t) => {
  const plugin = schedulerPlugin(gpuFitPlugin);
  const pool = agentPool('a', { gpuRequirements: { count: 1, type: 'A100', memory: '80Gi' } });
  const n = gfd('n', 'NVIDIA-A100-SXM4-80GB', 81920, {}, 0);
  const { ctx } = schedulerContext({ nodes: [n], pools: [pool] });
  t.equal(verdict(plugin.filter(ctx, pod('p', { pool: 'a', mig: { '1g.10gb': 1 } }), n, pool)).passed, true, 'no whole GPU needed');
  t.equal(verdict(plugin.filter(ctx, pod('q', { pool: 'a', gpus: 1 }), n, pool)).passed, false, 'a whole-GPU pod still needs one');
});

t.test('mig: pods requesting nvidia.com/mig-<profile> themselves, slices from allocatable and bound pods', async (t) => {
  const plugin = schedulerPlugin(migPlugin);
  const mixed = (name: string, allocatable: Record<string, string>): Node => {
    const n = gfd(name, 'NVIDIA-A100-SXM4-80GB', 81920, { 'nvidia.com/mig.capable': 'true', 'nvidia.com/mig.strategy': 'mixed' }, 0);
    Object.assign(n.status?.allocatable ?? {}, allocatable);
    return n;
  };
  const free = mixed('free', { 'nvidia.com/mig-2g.20gb': '3' });
  const full = mixed('full', { 'nvidia.com/mig-2g.20gb': '1' });
  const other = mixed('other', { 'nvidia.com/mig-1g.10gb': '7' });
  const plain = gfd('plain', 'NVIDIA-L4', 23034, { 'nvidia.com/mig.capable': 'false' }, 1);
  const pool = agentPool('chat', { gpuRequirements: { count: 1, type: 'A100' } });
  const bound = pod('holder', { node: 'full', mig: { '2g.20gb': 1 } });
  // One context per call: what a call works out for its pod is not another pod's.
  const call = (): SchedulerContext => schedulerContext({ nodes: [free, full, other, plain], pods: [bound], pools: [pool] }).ctx;
  let ctx = call();
  const asking = pod('p', { pool: 'chat', mig: { '2g.20gb': 1 } });
  t.equal(plugin.preFilter(ctx, asking, pool), undefined, 'a pool without migProfile is checked when the pod asks for a slice');
  t.same(verdict(plugin.filter(ctx, asking, free, pool)), { passed: true });
  t.same(verdict(plugin.filter(ctx, asking, full, pool)), { passed: false, reason: 'needs a 2g.20gb MIG slice; all 1 on the node are in use' });
  t.match(verdict(plugin.filter(ctx, asking, other, pool)), {
    passed: false,
    unresolvable: true,
    reason: "needs a 2g.20gb MIG slice; node's MIG slices (1g.10gb:7) include none",
  });
  t.match(verdict(plugin.filter(ctx, asking, plain, pool)), {
    passed: false,
    unresolvable: true,
    reason: 'needs a 2g.20gb MIG slice; node is not MIG-capable (nvidia.com/mig.capable=false)',
  });
  const two = pod('two', { mig: { '2g.20gb': 2 } });
  ctx = call();
  t.equal(plugin.preFilter(ctx, two, undefined), undefined, 'a pod of no pool asking for slices is checked too');
  t.same(verdict(plugin.filter(ctx, two, free, undefined)), { passed: true });
  t.same(verdict(plugin.filter(ctx, two, full, undefined)), { passed: false, reason: 'needs 2 2g.20gb MIG slices; all 1 on the node are in use' });
  t.equal(plugin.preFilter(call(), pod('whole', { pool: 'chat', gpus: 1 }), pool), 'skip', 'a whole-GPU pod is none of its business');
});

t.test('mig: single strategy counts nvidia.com/gpu as slices of the product’s profile', async (t) => {
  const plugin = schedulerPlugin(migPlugin);
  const n = gfd('s', 'NVIDIA-A100-SXM4-40GB-MIG-1g.5gb', 4864, { 'nvidia.com/mig.capable': 'true', 'nvidia.com/mig.strategy': 'single' }, 2);
  const pool = agentPool('tiny', { migProfile: '1g.5gb' });
  const { ctx } = schedulerContext({ nodes: [n], pools: [pool], pods: [pod('a', { node: 's', gpus: 2 })] });
  t.same(verdict(plugin.filter(ctx, pod('p', { pool: 'tiny', gpus: 1 }), n, pool)), {
    passed: false,
    reason: 'needs a 1g.5gb MIG slice; all 2 on the node are in use',
  });
});

t.test('cost: spot on each cloud label, and an unreadable capacity type is not taken for on-demand', async (t) => {
  const plugin = schedulerPlugin(costPlugin);
  const pool = agentPool('p', { scheduling: { costOptimization: { enabled: true, spotEnabled: false } } });
  for (const [label, value] of [
    ['karpenter.sh/capacity-type', 'spot'],
    ['eks.amazonaws.com/capacityType', 'SPOT'],
    ['cloud.google.com/gke-spot', 'true'],
    ['cloud.google.com/gke-preemptible', 'true'],
    ['kubernetes.azure.com/scalesetpriority', 'spot'],
  ] as const) {
    const n = node('n', { labels: { [label]: value } });
    const { ctx } = schedulerContext({ nodes: [n], pools: [pool] });
    t.match(
      verdict(plugin.filter(ctx, pod('x'), n, pool)),
      { passed: false, unresolvable: true, reason: `spot node (${label}=${value}); the pool does not allow spot (costOptimization.spotEnabled is not true)` },
      label,
    );
  }
  const bad = node('n', { labels: { 'eks.amazonaws.com/capacityType': 'SPOTTY' } });
  const { ctx } = schedulerContext({ nodes: [bad], pools: [pool] });
  t.match(verdict(plugin.filter(ctx, pod('x'), bad, pool)), {
    passed: false,
    reason:
      'capacity type unknown (eks.amazonaws.com/capacityType "SPOTTY" is not one of spot, on_demand, capacity_block); the pool does not allow spot (costOptimization.spotEnabled is not true)',
  });
  const onDemand = node('n', { labels: { 'eks.amazonaws.com/capacityType': 'ON_DEMAND' } });
  t.equal(verdict(plugin.filter(schedulerContext({ nodes: [onDemand], pools: [pool] }).ctx, pod('x'), onDemand, pool)).passed, true);
});

t.test('topology: NVLink from the GFD clique or the instance family; the table is configurable', async (t) => {
  const plugin = schedulerPlugin(topologyPlugin);
  const pool = agentPool('p', { gpuRequirements: { count: 2, type: 'H100', topology: { locality: 'nvlink' } } });
  const clique = gfd('c', 'NVIDIA-H100-80GB-HBM3', 81559, { 'nvidia.com/gpu.clique': '3e5f0b9a-1c2d-4e6f-8a9b-0c1d2e3f4a5b.0' });
  const p5 = gfd('p5', 'NVIDIA-H100-80GB-HBM3', 81559, { 'node.kubernetes.io/instance-type': 'p5.48xlarge' });
  const g6 = gfd('g6', 'NVIDIA-L4', 23034, { 'node.kubernetes.io/instance-type': 'g6.48xlarge' });
  const { ctx } = schedulerContext({ nodes: [clique, p5, g6], pools: [pool] });
  t.equal(verdict(plugin.filter(ctx, pod('x'), clique, pool)).passed, true, 'clique');
  t.equal(verdict(plugin.filter(ctx, pod('x'), p5, pool)).passed, true, 'p5 is NVSwitch');
  t.match(verdict(plugin.filter(ctx, pod('x'), g6, pool)), {
    passed: false,
    reason:
      'needs 2×H100 joined by NVLink; GPU interconnect unknown: no neuronetes.io/gpu-topology or nvidia.com/gpu.clique label, and instance type g6.48xlarge is not in the interconnect table',
  });
  const configured = schedulerPlugin(topologyPlugin, { instanceInterconnects: { 'g6.': 'pcie', 'p5.': 'pcie' } });
  t.match(verdict(configured.filter(ctx, pod('x'), g6, pool)), {
    passed: false,
    reason: "needs 2×H100 joined by NVLink; node's GPUs are on pcie (instance type g6.48xlarge (table entry g6.))",
  });
  t.equal(verdict(configured.filter(ctx, pod('x'), p5, pool)).passed, false, 'the config overrides a built-in entry');
  t.equal(configured.score(ctx, pod('x'), g6, pool), 40, 'scored by the interconnect the table gives');
});
