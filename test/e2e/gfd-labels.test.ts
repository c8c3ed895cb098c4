/**
 * A cluster as the NVIDIA GPU operator and the clouds label it, with no neuronetes.io/* label at all:
 * the real kube-scheduler (the shipped scheduler-config/*.yaml, managedResources as shipped, only the
 * URL changed) calls the service with its built-in plugins, which read GPU type and memory from GFD,
 * MIG slices from the mixed strategy's resources, spot from each cloud's label and NVLink from GFD's
 * clique or the instance family.
 */
import { pino } from 'pino';
import t from 'tap';
import { request } from 'undici';
import { KubernetesSource } from '../../src/cluster/kubernetes-source.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';
import { eventually, findKubeBinaries, freePort } from './control-plane.ts';
import {
  agentPool,
  boundNode,
  createAgentObjects,
  createCustom,
  createGpuNode,
  createPod,
  schedulerTrace,
  shippedSchedulerConfig,
  startAgentCluster,
} from './kube-fixtures.ts';

interface TraceEntry {
  verb: string;
  nodes: Record<string, { kept?: boolean; rejectedBy?: string; reason?: string }>;
}

/** GFD's labels for a node of `gpus` × `product` with `mib` MiB each. */
const gfd = (product: string, mib: number, gpus: number, extra: Record<string, string> = {}): Record<string, string> => ({
  'nvidia.com/gpu.present': 'true',
  'nvidia.com/gpu.product': product,
  'nvidia.com/gpu.memory': String(mib),
  'nvidia.com/gpu.count': String(gpus),
  'nvidia.com/mig.capable': 'false',
  'nvidia.com/mig.strategy': 'single',
  ...extra,
});

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(300_000);
  const log = pino({ level: process.env['E2E_LOG'] ?? 'silent' });
  const ns = 'agents';
  const { cp, kc } = await startAgentCluster(t, bins, ns);
  await createAgentObjects(kc, ns, 'chat');
  const bare = { neuronetesLabels: false } as const;
  await createGpuNode(kc, 'a100-80', {
    ...bare,
    gpus: 8,
    labels: {
      ...gfd('NVIDIA-A100-SXM4-80GB', 81920, 8, { 'nvidia.com/gpu.family': 'ampere' }),
      'node.kubernetes.io/instance-type': 'p4de.24xlarge',
      'karpenter.sh/capacity-type': 'on-demand',
    },
  });
  await createGpuNode(kc, 'a100-40', {
    ...bare,
    gpus: 8,
    labels: { ...gfd('NVIDIA-A100-SXM4-40GB', 40960, 8), 'node.kubernetes.io/instance-type': 'p4d.24xlarge', 'eks.amazonaws.com/capacityType': 'ON_DEMAND' },
  });
  await createGpuNode(kc, 'a10g', { ...bare, gpus: 4, labels: { ...gfd('NVIDIA-A10G', 23028, 4), 'node.kubernetes.io/instance-type': 'g5.12xlarge' } });
  await createGpuNode(kc, 'h100-spot', {
    ...bare,
    gpus: 8,
    labels: {
      ...gfd('NVIDIA-H100-80GB-HBM3', 81559, 8, { 'nvidia.com/gpu.clique': '5d0e8f0a-7b7e-4c41-9f2c-3a1b2c3d4e5f.0' }),
      'cloud.google.com/gke-spot': 'true',
    },
  });
  await createGpuNode(kc, 'h100-eks-spot', {
    ...bare,
    gpus: 8,
    labels: { ...gfd('NVIDIA-H100-80GB-HBM3', 81559, 8), 'node.kubernetes.io/instance-type': 'p5.48xlarge', 'eks.amazonaws.com/capacityType': 'SPOT' },
  });
  await createGpuNode(kc, 'h100-regular', {
    ...bare,
    gpus: 8,
    labels: {
      ...gfd('NVIDIA-H100-80GB-HBM3', 81559, 8),
      'node.kubernetes.io/instance-type': 'Standard_NC80adis_H100_v5',
      'kubernetes.azure.com/scalesetpriority': 'regular',
    },
  });
  await createGpuNode(kc, 'h200', { ...bare, gpus: 8, labels: { ...gfd('NVIDIA-H200', 143771, 8), 'kubernetes.azure.com/scalesetpriority': 'spot' } });
  await createGpuNode(kc, 'a100-mig', {
    ...bare,
    gpus: 0,
    labels: {
      ...gfd('NVIDIA-A100-SXM4-80GB', 81920, 2, {
        'nvidia.com/mig.capable': 'true',
        'nvidia.com/mig.strategy': 'mixed',
        'nvidia.com/mig.config': 'all-balanced',
      }),
      'nvidia.com/mig-1g.10gb.count': '4',
      'nvidia.com/mig-3g.40gb.count': '1',
    },
    resources: { 'nvidia.com/mig-1g.10gb': '4', 'nvidia.com/mig-3g.40gb': '1' },
  });

  const pools: [string, Record<string, unknown>][] = [
    ['a100-big', { gpuRequirements: { count: 1, type: 'A100', memory: '80Gi' } }],
    ['a100-nvlink', { gpuRequirements: { count: 2, type: 'A100', topology: { locality: 'nvlink' } } }],
    ['h100-no-spot', { gpuRequirements: { count: 1, type: 'H100' }, scheduling: { costOptimization: { enabled: true, spotEnabled: false } } }],
    [
      'h100-nvlink-spot',
      { gpuRequirements: { count: 2, type: 'H100', topology: { locality: 'nvlink' } }, scheduling: { costOptimization: { enabled: true, spotEnabled: true } } },
    ],
    ['slices', { gpuRequirements: { count: 1, type: 'A100' } }],
  ];
  for (const [name, spec] of pools) await createCustom(kc, ns, 'agentpools', agentPool(name, spec));

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cluster = new KubernetesSource({ kubeConfig: cp.kubeConfig(), log });
  const app: NeuroNetesApp = await buildApp({ cluster, logger: log });
  await app.listen({ port, host: '127.0.0.1' });
  t.teardown(() => app.close());
  await eventually('the service to see the pools', () => (app.neuronetes.cluster.view().pool(ns, 'slices') !== undefined ? true : undefined));

  await cp.startScheduler('scheduler-names', await shippedSchedulerConfig('scheduler-config.yaml', 'neuronetes-names', base));
  await cp.startScheduler('scheduler-nodes', await shippedSchedulerConfig('scheduler-config-full-nodes.yaml', 'neuronetes-nodes', base));

  const trace = (pod: string): Promise<TraceEntry[]> => schedulerTrace<TraceEntry>(base, ns, pod);
  const firstFilter = async (pod: string): Promise<TraceEntry | undefined> => (await trace(pod)).findLast((e) => e.verb === 'filter');
  const boundTo = (pod: string): Promise<string> => boundNode(kc, ns, pod);

  await t.test('GPU type and memory from GFD: A100 80Gi is not an A10G, an A100 40GB or an H100', async (t) => {
    await createPod(kc, ns, 'big-1', { gpus: 1, pool: 'a100-big', schedulerName: 'neuronetes-names' });
    t.equal(await boundTo('big-1'), 'a100-80');
    const filter = await firstFilter('big-1');
    t.match(filter?.nodes['a10g'], { kept: false, rejectedBy: 'gpu-fit', reason: 'needs A100 GPUs, node has NVIDIA-A10G' });
    t.match(filter?.nodes['h100-regular'], { kept: false, reason: 'needs A100 GPUs, node has NVIDIA-H100-80GB-HBM3' });
    t.match(filter?.nodes['a100-40'], { kept: false, reason: "needs 80Gi per GPU, node's NVIDIA-A100-SXM4-40GB GPUs have 40Gi (nvidia.com/gpu.memory=40960)" });
  });

  await t.test('spot from each cloud label: a pool that allows no spot gets the regular H100, not H200', async (t) => {
    await createPod(kc, ns, 'no-spot-1', { gpus: 1, pool: 'h100-no-spot', schedulerName: 'neuronetes-nodes' });
    t.equal(await boundTo('no-spot-1'), 'h100-regular');
    const filter = await firstFilter('no-spot-1');
    t.match(filter?.nodes['h100-spot'], { kept: false, rejectedBy: 'cost', reason: /^spot node \(cloud\.google\.com\/gke-spot=true\)/ });
    t.match(filter?.nodes['h100-eks-spot'], { kept: false, rejectedBy: 'cost', reason: /^spot node \(eks\.amazonaws\.com\/capacityType=SPOT\)/ });
    t.match(filter?.nodes['h200'], {
      kept: false,
      reason: /^(spot node \(kubernetes\.azure\.com\/scalesetpriority=spot\)|needs H100 GPUs, node has NVIDIA-H200)/,
    });
  });

  await t.test('NVLink from the GFD clique, and from the instance family', async (t) => {
    await createPod(kc, ns, 'nvlink-spot-1', { gpus: 2, pool: 'h100-nvlink-spot', schedulerName: 'neuronetes-names' });
    t.match(await boundTo('nvlink-spot-1'), /^h100-(eks-)?spot$/);
    const spot = await firstFilter('nvlink-spot-1');
    t.match(
      spot?.nodes,
      { 'h100-spot': { kept: true }, 'h100-eks-spot': { kept: true } },
      'the clique label and the p5 family both say NVLink; spot is allowed',
    );
    t.match(spot?.nodes['h100-regular'], {
      kept: false,
      rejectedBy: 'topology',
      reason: /GPU interconnect unknown: .*instance type Standard_NC80adis_H100_v5 is not in the interconnect table/,
    });
    await createPod(kc, ns, 'nvlink-a100-1', { gpus: 2, pool: 'a100-nvlink', schedulerName: 'neuronetes-names' });
    t.match(await boundTo('nvlink-a100-1'), /^a100-(80|40)$/, 'p4d/p4de are NVSwitch machines');
    const filter = await firstFilter('nvlink-a100-1');
    t.match(filter?.nodes['a10g'], {
      kept: false,
      rejectedBy: 'topology',
      reason: /GPU interconnect unknown: .*instance type g5\.12xlarge is not in the interconnect table/,
    });
  });

  for (const [mode, schedulerName] of [
    ['names', 'neuronetes-names'],
    ['nodes', 'neuronetes-nodes'],
  ] as const) {
    await t.test(`${mode} mode: MIG mixed strategy, pods asking for nvidia.com/mig-* reach the extender and land on the slices`, async (t) => {
      const pod = `slice-${mode}`;
      await createPod(kc, ns, pod, { pool: 'slices', schedulerName, resources: { 'nvidia.com/mig-1g.10gb': '1' } });
      t.equal(await boundTo(pod), 'a100-mig');
      t.ok(
        (await trace(pod)).some((e) => e.verb === 'filter'),
        'the shipped managedResources sent the pod to the extender',
      );
    });
  }

  await t.test('the extender counts the slices bound pods hold', async (t) => {
    const node = await eventually('both slices counted', async () => {
      const { body } = await request(`${base}/debug/nodes/a100-mig`);
      const facts = (await body.json()) as { mig: { slices: { value: Record<string, { used: number }> | null } } };
      return facts.mig.slices.value?.['1g.10gb']?.used === 2 ? facts : undefined;
    });
    t.match(node, {
      gpu: { type: { value: 'NVIDIA-A100-SXM4-80GB', from: 'nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB' } },
      mig: {
        strategy: { value: 'mixed' },
        slices: {
          value: { '1g.10gb': { total: 4, used: 2, free: 2 }, '3g.40gb': { total: 1, used: 0, free: 1 } },
          from: 'allocatable nvidia.com/mig-1g.10gb, nvidia.com/mig-3g.40gb',
        },
      },
    });
    await createPod(kc, ns, 'big-slice', { pool: 'slices', schedulerName: 'neuronetes-names', resources: { 'nvidia.com/mig-3g.40gb': '1' } });
    t.equal(await boundTo('big-slice'), 'a100-mig');
  });
}
