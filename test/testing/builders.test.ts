/** The kit's builders: nodes carry the labels and resources GPU Feature Discovery gives them. */
import t from 'tap';
import { agentClass, agentPool, clusterView, cpuNode, gpuNode, model, pod } from 'neuronetes/testing';

t.test('gpuNode: GFD labels, allocatable GPUs and the cloud labels asked for', async (t) => {
  const n = gpuNode({
    name: 'h1',
    product: 'NVIDIA-H100-80GB-HBM3',
    zone: 'us-east-1a',
    capacityType: 'spot',
    instanceType: 'p5.48xlarge',
    nvlinkClique: 'c0ffee.1',
    family: 'hopper',
  });
  t.match(n.metadata.labels, {
    'kubernetes.io/hostname': 'h1',
    'nvidia.com/gpu.present': 'true',
    'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3',
    'nvidia.com/gpu.memory': '81559',
    'nvidia.com/gpu.count': '8',
    'nvidia.com/gpu.family': 'hopper',
    'nvidia.com/gpu.clique': 'c0ffee.1',
    'nvidia.com/mig.capable': 'false',
    'topology.kubernetes.io/zone': 'us-east-1a',
    'karpenter.sh/capacity-type': 'spot',
    'node.kubernetes.io/instance-type': 'p5.48xlarge',
  });
  t.equal(n.status?.allocatable?.['nvidia.com/gpu'], '8');
  t.equal(
    gpuNode({ name: 'x', product: 'NVIDIA-B200-192GB' }).metadata.labels?.['nvidia.com/gpu.memory'],
    String(192 * 1024),
    'an unknown product: its stated size',
  );
  t.equal(gpuNode({ name: 'x', gpus: 2, memoryMiB: 1000 }).metadata.labels?.['nvidia.com/gpu.memory'], '1000');
  t.same(gpuNode({ name: 'c', unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] }).spec, {
    unschedulable: true,
    taints: [{ key: 'k', effect: 'NoSchedule' }],
  });
  t.equal(gpuNode({ name: 'd', labels: { 'nvidia.com/gpu.count': '4' } }).metadata.labels?.['nvidia.com/gpu.count'], '4', 'labels override');
});

t.test('gpuNode: MIG under the mixed and the single strategy', async (t) => {
  const mixed = gpuNode({ name: 'm', gpus: 2, mig: { strategy: 'mixed', slices: { '1g.10gb': 4, '3g.40gb': 1 }, config: 'all-balanced' } });
  t.match(mixed.metadata.labels, {
    'nvidia.com/mig.capable': 'true',
    'nvidia.com/mig.strategy': 'mixed',
    'nvidia.com/mig.config': 'all-balanced',
    'nvidia.com/mig-1g.10gb.count': '4',
    'nvidia.com/mig-3g.40gb.count': '1',
  });
  t.match(mixed.status?.allocatable, { 'nvidia.com/gpu': '0', 'nvidia.com/mig-1g.10gb': '4', 'nvidia.com/mig-3g.40gb': '1' });
  const single = gpuNode({ name: 's', product: 'NVIDIA-A100-SXM4-40GB', mig: { strategy: 'single', profile: '1g.5gb', slices: 56, memoryMiB: 4864 } });
  t.match(single.metadata.labels, {
    'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB-MIG-1g.5gb',
    'nvidia.com/gpu.memory': '4864',
    'nvidia.com/gpu.count': '56',
    'nvidia.com/mig.strategy': 'single',
  });
  t.equal(single.status?.allocatable?.['nvidia.com/gpu'], '56');
});

t.test('cpuNode, pod, pool, class and model; a cluster view indexes them', async (t) => {
  const c = cpuNode({ name: 'cpu-1' });
  t.equal(c.status?.allocatable?.['nvidia.com/gpu'], undefined);
  const bound = pod({ name: 'a', pool: 'chat', gpus: 2, mig: { '2g.20gb': 1 }, nodeName: 'g1' });
  t.match(bound, {
    metadata: { namespace: 'default', labels: { 'neuronetes.io/agent-pool': 'chat' } },
    spec: { nodeName: 'g1', containers: [{ resources: { requests: { 'nvidia.com/gpu': '2', 'nvidia.com/mig-2g.20gb': '1' } } }] },
    status: { phase: 'Running' },
  });
  t.equal(pod({ name: 'p' }).status?.phase, 'Pending');
  const pool = agentPool({ name: 'chat', gpu: { count: 1, type: 'H100' }, metrics: [{ type: 'queue-depth', target: '10' }], replicas: 3 });
  t.match(pool, {
    spec: {
      agentClassRef: { name: 'chat' },
      minReplicas: 1,
      maxReplicas: 4,
      gpuRequirements: { type: 'H100' },
      autoscaling: { metrics: [{ type: 'queue-depth' }] },
    },
    status: { replicas: 3 },
  });
  t.equal(agentClass({ name: 'chat' }).spec.modelRef.name, 'chat');
  t.equal(model({ name: 'llama' }).spec.weightsURI, 'hf://org/llama');
  const view = clusterView({
    nodes: [gpuNode({ name: 'g1' }), c],
    pods: [bound, pod({ name: 'done', nodeName: 'g1', phase: 'Succeeded' })],
    pools: [pool],
    classes: [agentClass({ name: 'chat' })],
    models: [model({ name: 'chat' })],
  });
  t.same(
    view.podsOnNode('g1').map((p) => p.metadata.name),
    ['a'],
    'finished pods hold nothing',
  );
  t.equal(view.pool('default', 'chat'), pool);
  t.equal(view.podsOfPool('default', 'chat').length, 1);
  t.not(clusterView().version, view.version, 'each picture is a new version');
});
