/** GET /debug/nodes/<name> and the GPU-node census log, through the HTTP app. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { stringify } from 'yaml';
import type { Node } from '../../src/api/kubernetes.ts';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { buildApp } from '../../src/server/app.ts';
import { eventually } from '../e2e/control-plane.ts';
import { node, pod } from '../helpers/scheduling-fixtures.ts';

const withKind = (n: Node): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Node', ...n });

const gfdNode = (name: string, labels: Record<string, string>, allocatable: Record<string, string> = {}): Node => {
  const n = node(name, {
    gpus: 8,
    labels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB', 'nvidia.com/gpu.memory': '81920', 'nvidia.com/gpu.count': '8', ...labels },
  });
  Object.assign(n.status?.allocatable ?? {}, allocatable);
  return n;
};

const dir = await mkdtemp(join(tmpdir(), 'nn-debug-nodes-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const file = join(dir, 'cluster.yaml');
const write = (nodes: Node[]): Promise<void> => writeFile(file, nodes.map((n) => stringify(withKind(n))).join('---\n'));

const spot = gfdNode(
  'gpu-spot',
  {
    'eks.amazonaws.com/capacityType': 'SPOT',
    'node.kubernetes.io/instance-type': 'p4d.24xlarge',
    'nvidia.com/mig.capable': 'true',
    'nvidia.com/mig.strategy': 'mixed',
  },
  { 'nvidia.com/mig-1g.10gb': '7' },
);
const l4 = gfdNode('gpu-l4', { 'nvidia.com/gpu.product': 'NVIDIA-L4', 'nvidia.com/gpu.memory': '23034', 'cloud.google.com/gke-spot': 'true' });
await write([spot, l4, node('cpu-1')]);

const lines: { level: number; msg: string; gpuNodes?: Record<string, number>; unknownFacts?: { node: string; why: string }[] }[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as (typeof lines)[number]);
    done();
  },
});
const logger = pino({ level: 'info' }, sink);
const cluster = new SnapshotSource({ path: dir, log: logger, watch: false });
const app = await buildApp({ cluster, logger, watchConfig: false });
t.teardown(() => app.close());
await app.ready();
const census = (): string[] => lines.filter((l) => l.msg.startsWith('GPU nodes:')).map((l) => l.msg);

t.test('at start-up: the GPU nodes recognised per type', async (t) => {
  t.same(census(), ['GPU nodes: 2 recognised (NVIDIA-A100-SXM4-80GB: 1, NVIDIA-L4: 1)']);
  t.same(lines.find((l) => l.msg.startsWith('GPU nodes:'))?.gpuNodes, { 'NVIDIA-A100-SXM4-80GB': 1, 'NVIDIA-L4': 1 });
});

t.test("a node's facts with the label each came from", async (t) => {
  const res = await app.inject({ url: '/debug/nodes/gpu-spot' });
  t.equal(res.statusCode, 200);
  t.match(res.json(), {
    name: 'gpu-spot',
    gpu: {
      type: { value: 'NVIDIA-A100-SXM4-80GB', from: 'nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB' },
      memoryBytes: { value: 81920 * 2 ** 20, from: 'nvidia.com/gpu.memory=81920' },
      count: { value: 8, from: 'nvidia.com/gpu.count=8' },
      allocatable: { value: 8, from: 'allocatable nvidia.com/gpu' },
      free: 8,
      interconnect: { value: 'nvswitch', from: 'instance type p4d.24xlarge (table entry p4d.)' },
      nvlinkDomain: { value: null, from: null, unknown: 'no nvidia.com/gpu.clique label' },
    },
    mig: {
      capable: { value: true, from: 'nvidia.com/mig.capable=true' },
      strategy: { value: 'mixed', from: 'nvidia.com/mig.strategy=mixed' },
      slices: { value: { '1g.10gb': { total: 7, used: 0, free: 7 } }, from: 'allocatable nvidia.com/mig-1g.10gb' },
    },
    capacityType: { value: 'spot', from: 'eks.amazonaws.com/capacityType=SPOT' },
    pricePerHour: { value: null, unknown: 'no neuronetes.io/cost-per-hour label, and no priceTable entry for the instance type' },
    instanceType: { value: 'p4d.24xlarge' },
  });
  const cpu = (await app.inject({ url: '/debug/nodes/cpu-1' })).json<{ capacityType: unknown; gpu: { type: unknown } }>();
  t.same(cpu.capacityType, {
    value: 'on-demand',
    from: null,
    assumed:
      'no karpenter.sh/capacity-type, eks.amazonaws.com/capacityType, cloud.google.com/gke-spot, cloud.google.com/gke-preemptible or kubernetes.azure.com/scalesetpriority label',
  });
  t.same(cpu.gpu.type, { value: null, from: null, unknown: 'no neuronetes.io/gpu-type or nvidia.com/gpu.product label' });
});

t.test('an unknown node is a 404 saying so', async (t) => {
  const res = await app.inject({ url: '/debug/nodes/gpu-nowhere' });
  t.equal(res.statusCode, 404);
  t.match(res.json(), { code: 'NN_UNKNOWN_NODE', message: 'no Node gpu-nowhere in the cluster source (GET /debug/nodes lists them)' });
});

t.test('a cluster change worth a line: nodes with GPUs but unknown facts, by name and why', async (t) => {
  const broken = gfdNode('gpu-broken', { 'nvidia.com/gpu.memory': 'lots' });
  const bare = node('gpu-bare', { gpus: 4 });
  await write([spot, l4, node('cpu-1'), broken, bare]);
  await cluster.reload();
  const line = await eventually('the census after the change', () => census()[1], 5000, 100);
  t.equal(
    line,
    'GPU nodes: 2 recognised (NVIDIA-A100-SXM4-80GB: 1, NVIDIA-L4: 1); 2 with GPUs but unknown facts: ' +
      'gpu-bare (GPU type unknown: no neuronetes.io/gpu-type or nvidia.com/gpu.product label; GPU memory unknown: no neuronetes.io/gpu-memory or nvidia.com/gpu.memory label), ' +
      'gpu-broken (GPU memory unknown: nvidia.com/gpu.memory "lots" is not a positive whole number of MiB)',
  );
  const res = await app.inject({ url: '/debug/nodes' });
  t.same(
    res.json<{ census: { unknown: { node: string }[] } }>().census.unknown.map((u) => u.node),
    ['gpu-bare', 'gpu-broken'],
  );
});

t.test('a change that alters nothing in the census logs nothing', async (t) => {
  const before = census().length;
  await writeFile(join(dir, 'pods.yaml'), stringify({ apiVersion: 'v1', kind: 'Pod', ...pod('a', { node: 'gpu-l4', gpus: 1 }) }));
  await cluster.reload();
  t.equal(cluster.view().podsOnNode('gpu-l4').length, 1, 'the change arrived');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(census().length, before);
});
