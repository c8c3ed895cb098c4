import t from 'tap';
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import { ClusterState, type ClusterObjects, type ClusterView } from '../../src/cluster/cluster-view.ts';
import { computeNodeFacts, podDeviceRequests } from '../../src/cluster/node-facts.ts';
import { a100, node, pod, schedulerContext } from '../helpers/scheduling-fixtures.ts';

t.test('neuronetes.io labels are read once; a malformed one is an unknown fact with the reason', async (t) => {
  const f = computeNodeFacts(
    node('n', {
      gpus: '4',
      labels: {
        'neuronetes.io/gpu-type': 'H100',
        'neuronetes.io/gpu-memory': 'lots',
        'neuronetes.io/gpu-topology': 'NVLink',
        'neuronetes.io/gpu-bandwidth': '900Gi',
        'neuronetes.io/mig-capable': 'TRUE',
        'neuronetes.io/mig-config': '1g.10gb:7',
        'neuronetes.io/cost-per-hour': '1e3',
        'node.kubernetes.io/instance-type': 'p5.48xlarge',
        'topology.kubernetes.io/zone': 'z1',
      },
      annotations: { 'neuronetes.io/cached-models': ' a,,b ' },
    }),
    [],
  );
  t.match(f, {
    gpuType: { value: 'H100', from: 'neuronetes.io/gpu-type=H100' },
    gpuTypeTokens: ['h100'],
    gpuMemory: { value: undefined, from: 'neuronetes.io/gpu-memory=lots', problem: 'neuronetes.io/gpu-memory "lots" is not a quantity' },
    allocatableGpus: 4,
    allocatableProblem: undefined,
    freeGpus: 4,
    interconnect: { value: 'nvlink', from: 'neuronetes.io/gpu-topology=NVLink' },
    bandwidth: { value: 900 * 2 ** 30 },
    migCapable: { value: true },
    migSlices: { value: new Map([['1g.10gb', 7]]), from: 'neuronetes.io/mig-config=1g.10gb:7' },
    costPerHour: { value: undefined, problem: 'neuronetes.io/cost-per-hour "1e3" is not a number (e.g. 12.50)' },
    instanceType: { value: 'p5.48xlarge' },
    capacityType: { value: undefined, from: undefined, problem: undefined },
    zone: 'z1',
    hasGpus: true,
  });
  t.same([...f.cachedModels], ['a', 'b']);
});

t.test('a node with no labels, annotations or status', async (t) => {
  const f = computeNodeFacts({ metadata: { name: 'bare' } }, []);
  t.match(f, {
    gpuType: { value: undefined, from: undefined },
    gpuMemory: { value: undefined, from: undefined },
    allocatableGpus: 0,
    allocatableProblem: undefined,
    freeGpus: 0,
    migCapable: { value: undefined },
    migSlices: { value: undefined, from: undefined },
    capacityType: { value: undefined },
    zone: undefined,
    hasGpus: false,
  });
  t.equal(f.cachedModels.size, 0);
});

t.test('allocatable GPUs that are not a whole number', async (t) => {
  for (const gpus of ['x', '1.5', '-1', '500m']) {
    const f = computeNodeFacts(node('n', { gpus }), []);
    t.equal(f.allocatableGpus, 0, gpus);
    t.equal(f.allocatableProblem, `allocatable nvidia.com/gpu ${JSON.stringify(gpus)} is not a whole number`, gpus);
  }
});

t.test('more GPUs requested than allocatable leaves none free, not a negative count', async (t) => {
  const f = computeNodeFacts(node('n', { gpus: 2 }), [pod('a', { node: 'n', gpus: 3 })]);
  t.equal(f.usedGpus, 3);
  t.equal(f.freeGpus, 0);
});

t.test('pod device requests', async (t) => {
  t.equal(podDeviceRequests(pod('cpu-only')), undefined, 'no GPUs: nothing allocated');
  t.equal(podDeviceRequests({ metadata: { name: 'x' } }), undefined, 'no spec');
  t.same(
    podDeviceRequests(pod('a', { gpus: 2, mig: { '1g.5gb': 2 } })),
    new Map([
      ['nvidia.com/gpu', 2],
      ['nvidia.com/mig-1g.5gb', 2],
    ]),
  );
  t.same(podDeviceRequests(pod('b', { gpus: 1, initGpus: 3 })), new Map([['nvidia.com/gpu', 3]]), 'init containers as their maximum');
  t.same(podDeviceRequests(pod('c', { gpus: 4, initGpus: 3 })), new Map([['nvidia.com/gpu', 4]]));
  t.same(podDeviceRequests(pod('d', { initGpus: 1 })), new Map([['nvidia.com/gpu', 1]]), 'only an init container');
  const two = pod('e', { gpus: 1 });
  two.spec?.containers?.push({ name: 'sidecar', resources: { limits: { 'nvidia.com/gpu': 2 } } });
  t.same(podDeviceRequests(two), new Map([['nvidia.com/gpu', 3]]), 'containers summed, numbers and limits too');
  const cpuRequested: Pod = { metadata: { name: 'f' }, spec: { containers: [{ resources: { requests: { cpu: '4' }, limits: { 'nvidia.com/gpu': '2' } } }] } };
  t.same(podDeviceRequests(cpuRequested), new Map([['nvidia.com/gpu', 2]]), 'a GPU in limits counts though other resources are requested');
  const both: Pod = {
    metadata: { name: 'g' },
    spec: { containers: [{ resources: { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1', 'nvidia.com/mig-1g.5gb': '1' } } }] },
  };
  t.same(
    podDeviceRequests(both),
    new Map([
      ['nvidia.com/gpu', 1],
      ['nvidia.com/mig-1g.5gb', 1],
    ]),
    'a resource in both is counted once',
  );
});

t.test('facts come from the picture by name; unknown nodes once per Node object and picture', async (t) => {
  const { cluster } = schedulerContext({ nodes: [a100('known')], pods: [pod('a', { node: 'stranger', gpus: 3 })] });
  const cached = cluster.nodeFacts(node('known'));
  t.equal(cached.gpuType.value, 'A100', 'the cached node, not the labels sent');
  t.equal(cluster.nodeFacts(a100('known')), cached, 'one object per node and picture');
  const stranger = a100('stranger');
  const first = cluster.nodeFacts(stranger);
  t.equal(first.usedGpus, 3, 'pods bound to it by name are counted');
  t.equal(cluster.nodeFacts(stranger), first, 'computed once for the same Node object');
  const { cluster: next } = schedulerContext({ nodes: [], pods: [] });
  const again = next.nodeFacts(stranger);
  t.not(again, first, 'a new picture recomputes');
  t.equal(again.usedGpus, 0);
});

t.test('a picture listed afresh after another reuses the facts of nodes whose object and pods did not change, and only those', async (t) => {
  const idle = a100('idle');
  const busy = a100('busy');
  const first = pod('first', { node: 'busy', gpus: 1 });
  const objects = (nodes: Node[], pods: Pod[]): ClusterObjects => ({ nodes, pods, agentPools: [], agentClasses: [], models: [] });
  const before = new ClusterState(objects([idle, busy], [first]), 1);
  const idleFacts = before.nodeFacts(idle);
  t.equal(before.nodeFacts(busy).usedGpus, 1);

  const bound = new ClusterState(objects([idle, busy], [first, pod('second', { node: 'busy', gpus: 2 })]), 2, before);
  t.equal(bound.nodeFacts(idle), idleFacts, 'same Node object, same pods: the facts are reused');
  t.equal(bound.nodeFacts(busy).usedGpus, 3, 'a pod bound to the node is counted');

  const relabelled = a100('idle', { labels: { 'topology.kubernetes.io/zone': 'z9' } });
  const updated = new ClusterState(objects([relabelled, busy], [first]), 3, bound);
  t.equal(updated.nodeFacts(relabelled).zone, 'z9', 'a replaced Node object is recomputed');
  t.equal(updated.nodeFacts(busy).usedGpus, 1, 'a pod gone from the node frees its GPUs');

  const unrelated = new ClusterState(objects([idle, busy], [first]), 1);
  t.not(unrelated.nodeFacts(idle), idleFacts, 'a picture of another source starts afresh');
});

t.test('facts carried over from the picture before match facts computed afresh', async (t) => {
  const nodes = [a100('n0'), a100('n1'), a100('n2')];
  const start = schedulerContext({ nodes, pods: [pod('a', { node: 'n0', gpus: 2 })] }).cluster;
  const used = (view: ClusterView): number[] => nodes.map((n) => view.nodeFacts(n).usedGpus);
  t.same(used(start), [2, 0, 0]);
  const n2Facts = start.nodeFacts(nodes[2] as Node);
  const bound = start.next(start.version + 1, { pods: new Map([['agents/b', pod('b', { node: 'n1', gpus: 3 })]]) });
  const moved = bound.next(bound.version + 1, { pods: new Map([['agents/a', pod('a', { node: 'n2', gpus: 2 })]]) });
  t.same(used(moved), [0, 3, 2], 'two pictures on: the pods moved and added are counted where they are');
  t.same(used(moved), used(schedulerContext({ nodes, pods: [pod('b', { node: 'n1', gpus: 3 }), pod('a', { node: 'n2', gpus: 2 })] }).cluster), 'as afresh');
  t.not(moved.nodeFacts(nodes[2] as Node), n2Facts, 'the node whose pods changed is recomputed');
  t.same(used(bound), [2, 3, 0], 'an earlier picture asked again answers for itself');
});
