/**
 * Node facts from the labels real clusters carry: each source of each fact, the order between them
 * (neuronetes.io/* overrides first), and each malformed label leaving its fact unknown with the reason.
 */
import t from 'tap';
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import { computeNodeFacts, type NodeFacts } from '../../src/cluster/node-facts.ts';
import { DEFAULT_INSTANCE_INTERCONNECTS, instanceInterconnect, singleStrategyProfile, typeMatches, typeTokens } from '../../src/cluster/node-labels.ts';
import { node, pod } from '../helpers/scheduling-fixtures.ts';

const facts = (labels: Record<string, string>, o: { gpus?: string | number; allocatable?: Record<string, string>; pods?: Pod[] } = {}): NodeFacts => {
  const n: Node = node('n', { labels, ...(o.gpus !== undefined ? { gpus: o.gpus } : {}) });
  if (o.allocatable !== undefined) Object.assign(n.status?.allocatable ?? {}, o.allocatable);
  return computeNodeFacts(n, o.pods ?? []);
};

/** A GFD-labelled A100 node as the GPU operator leaves it. */
const GFD_A100 = {
  'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB',
  'nvidia.com/gpu.memory': '81920',
  'nvidia.com/gpu.count': '8',
  'nvidia.com/gpu.family': 'ampere',
  'nvidia.com/mig.capable': 'true',
  'nvidia.com/mig.strategy': 'mixed',
  'nvidia.com/mig.config': 'all-disabled',
  'nvidia.com/gpu.clique': '7f4c1a2e-91b3-4d5e-8a6f-0123456789ab.1',
};

t.test('GFD labels: every fact and the label it came from', async (t) => {
  const f = facts(GFD_A100, { gpus: 8 });
  t.match(f, {
    gpuType: { value: 'NVIDIA-A100-SXM4-80GB', from: 'nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB' },
    gpuTypeTokens: ['nvidia', 'a100', 'sxm4', '80gb'],
    gpuMemory: { value: 81920 * 2 ** 20, from: 'nvidia.com/gpu.memory=81920' },
    gpuCount: { value: 8, from: 'nvidia.com/gpu.count=8' },
    gpuFamily: { value: 'ampere' },
    migCapable: { value: true, from: 'nvidia.com/mig.capable=true' },
    migStrategy: { value: 'mixed' },
    migConfigName: { value: 'all-disabled' },
    interconnect: { value: 'nvlink', from: 'nvidia.com/gpu.clique=7f4c1a2e-91b3-4d5e-8a6f-0123456789ab.1' },
    nvlinkDomain: { value: '7f4c1a2e-91b3-4d5e-8a6f-0123456789ab.1' },
    migSlices: { value: undefined, from: undefined },
    migSingleProfile: undefined,
    hasGpus: true,
  });
});

t.test('neuronetes.io labels override GFD', async (t) => {
  const f = facts({
    ...GFD_A100,
    'neuronetes.io/gpu-type': 'A100',
    'neuronetes.io/gpu-memory': '40Gi',
    'neuronetes.io/gpu-count': '4',
    'neuronetes.io/gpu-topology': 'pcie',
    'neuronetes.io/mig-capable': 'false',
  });
  t.match(f, {
    gpuType: { value: 'A100', from: 'neuronetes.io/gpu-type=A100' },
    gpuMemory: { value: 40 * 2 ** 30, from: 'neuronetes.io/gpu-memory=40Gi' },
    gpuCount: { value: 4 },
    interconnect: { value: 'pcie', from: 'neuronetes.io/gpu-topology=pcie' },
    migCapable: { value: false, from: 'neuronetes.io/mig-capable=false' },
  });
});

t.test('GPU memory: the size a product name states counts when GFD reports a little less, and only then', async (t) => {
  const memory = (product: string, mib: string): NodeFacts['gpuMemory'] => facts({ 'nvidia.com/gpu.product': product, 'nvidia.com/gpu.memory': mib }).gpuMemory;
  t.match(
    memory('NVIDIA-H100-80GB-HBM3', '81559'),
    { value: 80 * 2 ** 30, from: 'nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3, nvidia.com/gpu.memory=81559 MiB' },
    'an 80GB H100 meets 80Gi',
  );
  t.match(memory('NVIDIA-A100-SXM4-80GB', '81920'), { value: 81920 * 2 ** 20, from: 'nvidia.com/gpu.memory=81920' }, 'GFD already reports the full size');
  t.match(memory('NVIDIA-A100-SXM4-40GB-MIG-1g.5gb', '4864'), { value: 4864 * 2 ** 20 }, 'a MIG slice stays a slice, not the 40GB of its GPU');
  t.match(memory('NVIDIA-L4', '23034'), { value: 23034 * 2 ** 20 }, 'no stated size: what GFD reports');
  const override = facts({ 'neuronetes.io/gpu-memory': '79Gi', 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', 'nvidia.com/gpu.memory': '81559' }).gpuMemory;
  t.match(override, { value: 79 * 2 ** 30, from: 'neuronetes.io/gpu-memory=79Gi' }, 'an explicit override is taken as written');
});

t.test('a malformed label makes its fact unknown, with the reason; it does not fall through to the next source', async (t) => {
  const cases: [string, Record<string, string>, keyof NodeFacts, string][] = [
    ['GFD memory not a number', { 'nvidia.com/gpu.memory': '80GB' }, 'gpuMemory', 'nvidia.com/gpu.memory "80GB" is not a positive whole number of MiB'],
    ['GFD memory zero', { 'nvidia.com/gpu.memory': '0' }, 'gpuMemory', 'nvidia.com/gpu.memory "0" is not a positive whole number of MiB'],
    [
      'override memory malformed, GFD fine',
      { 'neuronetes.io/gpu-memory': 'big', 'nvidia.com/gpu.memory': '81920' },
      'gpuMemory',
      'neuronetes.io/gpu-memory "big" is not a quantity',
    ],
    ['GFD count', { 'nvidia.com/gpu.count': 'eight' }, 'gpuCount', 'nvidia.com/gpu.count "eight" is not a whole number'],
    ['GFD product', { 'nvidia.com/gpu.product': 'NVIDIA A100' }, 'gpuType', 'nvidia.com/gpu.product "NVIDIA A100" is not a name (letters, digits, . _ -)'],
    ['GFD mig.capable', { 'nvidia.com/mig.capable': 'yes' }, 'migCapable', 'nvidia.com/mig.capable "yes" is not true or false'],
    ['GFD mig.strategy', { 'nvidia.com/mig.strategy': 'both' }, 'migStrategy', 'nvidia.com/mig.strategy "both" is not one of none, single, mixed'],
    ['GFD clique', { 'nvidia.com/gpu.clique': 'rack-7' }, 'interconnect', 'nvidia.com/gpu.clique "rack-7" is not <cluster-uuid>.<clique-id>'],
    [
      'topology override',
      { 'neuronetes.io/gpu-topology': 'nv link', 'nvidia.com/gpu.clique': 'c.1' },
      'interconnect',
      'neuronetes.io/gpu-topology "nv link" is not an interconnect name (nvlink, nvswitch, pcie…)',
    ],
    [
      'Karpenter capacity type',
      { 'karpenter.sh/capacity-type': 'sopt' },
      'capacityType',
      'karpenter.sh/capacity-type "sopt" is not one of spot, on-demand, reserved',
    ],
    [
      'EKS capacity type',
      { 'eks.amazonaws.com/capacityType': 'CHEAP' },
      'capacityType',
      'eks.amazonaws.com/capacityType "CHEAP" is not one of spot, on_demand, capacity_block',
    ],
    ['GKE spot', { 'cloud.google.com/gke-spot': 'yes' }, 'capacityType', 'cloud.google.com/gke-spot "yes" is not true or false'],
    ['GKE preemptible', { 'cloud.google.com/gke-preemptible': '1' }, 'capacityType', 'cloud.google.com/gke-preemptible "1" is not true or false'],
    ['AKS priority', { 'kubernetes.azure.com/scalesetpriority': 'low' }, 'capacityType', 'kubernetes.azure.com/scalesetpriority "low" is not spot or regular'],
    [
      'MIG layout override',
      { 'neuronetes.io/mig-config': '2g.10gb' },
      'migSlices',
      'neuronetes.io/mig-config "2g.10gb" is not profile:count,… (e.g. 1g.5gb:7,2g.10gb:3)',
    ],
    ['GFD mixed-strategy count', { 'nvidia.com/mig-2g.10gb.count': 'three' }, 'migSlices', 'nvidia.com/mig-2g.10gb.count "three" is not a whole number'],
    ['GFD mixed-strategy profile', { 'nvidia.com/mig-big.count': '3' }, 'migSlices', 'nvidia.com/mig-big.count: "big" is not a MIG profile (e.g. 1g.5gb)'],
    ['cost per hour', { 'neuronetes.io/cost-per-hour': '$3' }, 'costPerHour', 'neuronetes.io/cost-per-hour "$3" is not a number (e.g. 12.50)'],
  ];
  for (const [name, labels, key, problem] of cases) {
    const fact = facts(labels)[key] as { value: unknown; problem: string | undefined };
    t.equal(fact.value, undefined, `${name}: unknown`);
    t.equal(fact.problem, problem, `${name}: the reason`);
  }
});

t.test('capacity type from each cloud label', async (t) => {
  const cases: [Record<string, string>, string | undefined, string | undefined][] = [
    [{ 'karpenter.sh/capacity-type': 'spot' }, 'spot', 'karpenter.sh/capacity-type=spot'],
    [{ 'karpenter.sh/capacity-type': 'on-demand' }, 'on-demand', 'karpenter.sh/capacity-type=on-demand'],
    [{ 'karpenter.sh/capacity-type': 'reserved' }, 'on-demand', 'karpenter.sh/capacity-type=reserved'],
    [{ 'eks.amazonaws.com/capacityType': 'SPOT' }, 'spot', 'eks.amazonaws.com/capacityType=SPOT'],
    [{ 'eks.amazonaws.com/capacityType': 'ON_DEMAND' }, 'on-demand', 'eks.amazonaws.com/capacityType=ON_DEMAND'],
    [{ 'eks.amazonaws.com/capacityType': 'CAPACITY_BLOCK' }, 'on-demand', 'eks.amazonaws.com/capacityType=CAPACITY_BLOCK'],
    [{ 'cloud.google.com/gke-spot': 'true' }, 'spot', 'cloud.google.com/gke-spot=true'],
    [{ 'cloud.google.com/gke-spot': 'false' }, 'on-demand', 'cloud.google.com/gke-spot=false'],
    [{ 'cloud.google.com/gke-preemptible': 'true' }, 'spot', 'cloud.google.com/gke-preemptible=true'],
    [{ 'kubernetes.azure.com/scalesetpriority': 'spot' }, 'spot', 'kubernetes.azure.com/scalesetpriority=spot'],
    [{ 'kubernetes.azure.com/scalesetpriority': 'regular' }, 'on-demand', 'kubernetes.azure.com/scalesetpriority=regular'],
    [{ 'karpenter.sh/capacity-type': 'on-demand', 'cloud.google.com/gke-spot': 'true' }, 'on-demand', 'karpenter.sh/capacity-type=on-demand'],
    [{}, undefined, undefined],
  ];
  for (const [labels, value, from] of cases) t.match(facts(labels).capacityType, { value, from, problem: undefined }, JSON.stringify(labels));
});

t.test('MIG slices from each source, in order', async (t) => {
  const mixed = facts({
    'nvidia.com/mig.strategy': 'mixed',
    'nvidia.com/mig-1g.10gb.count': '7',
    'nvidia.com/mig-2g.20gb.count': '3',
    'nvidia.com/mig-2g.20gb.memory': '19968',
  });
  t.same(
    mixed.migSlices.value,
    new Map([
      ['1g.10gb', 7],
      ['2g.20gb', 3],
    ]),
    'GFD mixed-strategy count labels (other mig-* labels ignored)',
  );
  t.equal(mixed.migSlices.from, 'nvidia.com/mig-1g.10gb.count=7, nvidia.com/mig-2g.20gb.count=3');

  const exposed = facts({ 'nvidia.com/mig-1g.10gb.count': '7' }, { allocatable: { 'nvidia.com/mig-1g.10gb': '6', 'nvidia.com/mig-3g.40gb': '1' } });
  t.same(
    exposed.migSlices.value,
    new Map([
      ['1g.10gb', 6],
      ['3g.40gb', 1],
    ]),
    'allocatable resources before the labels',
  );
  t.equal(exposed.migSlices.from, 'allocatable nvidia.com/mig-1g.10gb, nvidia.com/mig-3g.40gb');

  const badAllocatable = facts({}, { allocatable: { 'nvidia.com/mig-1g.10gb': 'x' } });
  t.equal(badAllocatable.migSlices.problem, 'allocatable nvidia.com/mig-1g.10gb "x" is not a whole number');

  const override = facts({ 'neuronetes.io/mig-config': '2g.10gb:3' }, { allocatable: { 'nvidia.com/mig-1g.10gb': '6' } });
  t.same(override.migSlices.value, new Map([['2g.10gb', 3]]), 'the neuronetes.io layout overrides everything');

  const single = facts(
    { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB-MIG-1g.5gb', 'nvidia.com/mig.strategy': 'single', 'nvidia.com/gpu.memory': '4864' },
    { gpus: 56, pods: [pod('a', { node: 'n', gpus: 2 })] },
  );
  t.equal(single.migSingleProfile, '1g.5gb');
  t.same(single.migSlices.value, new Map([['1g.5gb', 56]]), 'single strategy: every nvidia.com/gpu is a slice of the product’s profile');
  t.equal(single.migUsed.get('1g.5gb'), 2, 'GPUs in use are slices in use');
  t.match(single.gpuType, { value: 'NVIDIA-A100-SXM4-40GB-MIG-1g.5gb' });

  const used = facts(
    {},
    {
      allocatable: { 'nvidia.com/mig-2g.10gb': '3' },
      pods: [pod('a', { node: 'n', mig: { '2g.10gb': 2 } }), pod('b', { node: 'n', mig: { '2g.10gb': 1, '1g.5gb': 1 } })],
    },
  );
  t.same(
    used.migUsed,
    new Map([
      ['2g.10gb', 3],
      ['1g.5gb', 1],
    ]),
    'the bound pods’ requests, per profile',
  );
  t.equal(used.hasGpus, true, 'MIG slices alone make a GPU node');
});

t.test('a pool type matches the product by its words, case-insensitively', async (t) => {
  const matches = (want: string, product: string): boolean => typeMatches(typeTokens(want), typeTokens(product));
  t.ok(matches('A100', 'NVIDIA-A100-SXM4-80GB'));
  t.ok(matches('a100', 'NVIDIA-A100-PCIE-40GB'));
  t.ok(matches('A100-SXM4', 'NVIDIA-A100-SXM4-80GB'));
  t.ok(matches('NVIDIA-A100-SXM4-80GB', 'NVIDIA-A100-SXM4-80GB'), 'an exact product name');
  t.ok(matches('A100', 'NVIDIA-A100-SXM4-40GB-MIG-1g.5gb'));
  t.ok(matches('H100', 'NVIDIA-H100-80GB-HBM3'));
  t.ok(matches('T4', 'Tesla-T4'));
  t.ok(matches('L4', 'NVIDIA-L4'));
  t.ok(matches('A10G', 'NVIDIA-A10G'));
  t.ok(matches('A100', 'A100'), 'the neuronetes.io/gpu-type form');
  t.notOk(matches('A100', 'NVIDIA-A10G'), 'A100 is not A10G');
  t.notOk(matches('A10G', 'NVIDIA-A100-SXM4-80GB'));
  t.notOk(matches('H100', 'NVIDIA-H200'), 'H100 is not H200');
  t.notOk(matches('L4', 'NVIDIA-L40S'), 'L4 is not L40S');
  t.notOk(matches('A100-80GB', 'NVIDIA-A100-SXM4-80GB'), 'words must be together and in order');
  t.notOk(matches('', 'NVIDIA-L4'));
});

t.test('single-strategy product names', async (t) => {
  t.equal(singleStrategyProfile('NVIDIA-A100-SXM4-40GB-MIG-1g.5gb'), '1g.5gb');
  t.equal(singleStrategyProfile('NVIDIA-H100-80GB-HBM3-MIG-3g.40gb'), '3g.40gb');
  t.equal(singleStrategyProfile('NVIDIA-A100-SXM4-80GB'), undefined);
  t.equal(singleStrategyProfile('NVIDIA-A100-MIG-lots'), undefined, 'not a profile');
  t.equal(singleStrategyProfile(undefined), undefined);
});

t.test('interconnect by instance type: the longest matching prefix of the table', async (t) => {
  t.match(instanceInterconnect('p4d.24xlarge', DEFAULT_INSTANCE_INTERCONNECTS), { value: 'nvswitch', from: 'instance type p4d.24xlarge (table entry p4d.)' });
  t.match(instanceInterconnect('p4de.24xlarge', DEFAULT_INSTANCE_INTERCONNECTS), {
    value: 'nvswitch',
    from: 'instance type p4de.24xlarge (table entry p4de.)',
  });
  t.match(instanceInterconnect('a3-megagpu-8g', DEFAULT_INSTANCE_INTERCONNECTS), { value: 'nvswitch' });
  t.match(instanceInterconnect('Standard_ND96isr_H100_v5', DEFAULT_INSTANCE_INTERCONNECTS), { value: 'nvswitch' }, 'case-insensitive');
  t.match(instanceInterconnect('g5.48xlarge', DEFAULT_INSTANCE_INTERCONNECTS), { value: undefined, from: undefined });
  t.match(instanceInterconnect('p5.48xlarge', { 'p5.': 'nvswitch', 'p5.48xlarge': 'PCIe' }), {
    value: 'pcie',
    from: 'instance type p5.48xlarge (table entry p5.48xlarge)',
  });
});
