/**
 * Deterministic GPU clusters for the benchmarks: the same size and seed always give the same nodes,
 * pods, pools, classes and models, so two runs (and the committed baseline) measure the same work.
 * The mix is meant to make every scheduling plugin decide something: several GPU types and memory
 * sizes, NVLink and PCIe, MIG partitions, spot and on-demand, costs, cached models, and GPUs already
 * taken by bound pods (some of them carrying the data-locality labels pools ask for).
 */
import { GPU_RESOURCE, type Node, type Pod } from '../src/api/kubernetes.ts';
import { API_VERSION, Annotations, Labels, type AgentClass, type AgentPool, type Model } from '../src/api/neuronetes.ts';
import type { ClusterObjects } from '../src/cluster/cluster-view.ts';

export const NAMESPACE = 'agents';

/** mulberry32: a tiny seeded PRNG, good enough to spread a cluster's features evenly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface NodeShape {
  readonly family: string;
  readonly gpuType: string;
  readonly memory: string;
  readonly gpus: number;
  readonly topology: 'nvlink' | 'pcie';
  readonly bandwidth: string;
  readonly instanceType: string;
  readonly onDemandCost: number;
  readonly mig?: string;
  /** Share of the cluster, out of the sum of all shares. */
  readonly share: number;
}

const SHAPES: readonly NodeShape[] = [
  {
    family: 'a100',
    gpuType: 'A100',
    memory: '80Gi',
    gpus: 8,
    topology: 'nvlink',
    bandwidth: '600Gi',
    instanceType: 'p4de.24xlarge',
    onDemandCost: 40.96,
    share: 3,
  },
  {
    family: 'a100-mig',
    gpuType: 'A100',
    memory: '40Gi',
    gpus: 8,
    topology: 'nvlink',
    bandwidth: '600Gi',
    instanceType: 'p4d.24xlarge',
    onDemandCost: 32.77,
    mig: '1g.5gb:14,2g.10gb:7,3g.20gb:4',
    share: 1,
  },
  {
    family: 'h100',
    gpuType: 'H100',
    memory: '80Gi',
    gpus: 8,
    topology: 'nvlink',
    bandwidth: '900Gi',
    instanceType: 'p5.48xlarge',
    onDemandCost: 98.32,
    share: 2,
  },
  { family: 'l4', gpuType: 'L4', memory: '24Gi', gpus: 4, topology: 'pcie', bandwidth: '64Gi', instanceType: 'g6.12xlarge', onDemandCost: 4.6, share: 3 },
  { family: 't4', gpuType: 'T4', memory: '16Gi', gpus: 1, topology: 'pcie', bandwidth: '32Gi', instanceType: 'g4dn.xlarge', onDemandCost: 0.53, share: 1 },
];
const SHARE_TOTAL = SHAPES.reduce((s, x) => s + x.share, 0);
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d'];
const MODELS = [
  { name: 'llama-3-70b', size: '140Gi', uri: 's3://neuronetes-models/llama-3-70b/' },
  { name: 'mixtral-8x7b', size: '96Gi', uri: 's3://neuronetes-models/mixtral-8x7b/' },
  { name: 'mistral-7b', size: '16Gi', uri: 'hf://mistralai/Mistral-7B-Instruct-v0.3' },
  { name: 'phi-3-mini', size: '8Gi', uri: 'file:///var/lib/neuronetes/seed/phi-3-mini/' },
] as const;
const STORES = ['docs-vectors', 'code-vectors', 'kv-cache'];
/** Images every real node reports in status.images; they make full-node payloads realistically large. */
const IMAGES = [
  'ghcr.io/neuronetes/agent-runtime:0.1',
  'nvcr.io/nvidia/k8s-device-plugin:v0.17.0',
  'nvcr.io/nvidia/cloud-native/dcgm-exporter:3.3.9',
  'registry.k8s.io/kube-proxy:v1.32.0',
  'ghcr.io/neuronetes/node-agent:0.1',
];

function shapeFor(r: number): NodeShape {
  let acc = 0;
  for (const shape of SHAPES) {
    acc += shape.share / SHARE_TOTAL;
    if (r < acc) return shape;
  }
  return SHAPES[SHAPES.length - 1] as NodeShape;
}

function makeNode(index: number, next: () => number): { node: Node; shape: NodeShape } {
  const shape = shapeFor(next());
  const name = `gpu-${shape.family}-${String(index).padStart(5, '0')}`;
  const spot = next() < 0.3;
  const zone = ZONES[index % ZONES.length] as string;
  const cached = MODELS.filter(() => next() < 0.2).map((m) => m.name);
  const cost = (spot ? shape.onDemandCost * 0.35 : shape.onDemandCost).toFixed(2);
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    [Labels.zone]: zone,
    'topology.kubernetes.io/region': 'us-east-1',
    [Labels.instanceType]: shape.instanceType,
    [Labels.capacityType]: spot ? 'spot' : 'on-demand',
    [Labels.costPerHour]: cost,
    [Labels.gpuType]: shape.gpuType,
    [Labels.gpuMemory]: shape.memory,
    [Labels.gpuCount]: String(shape.gpus),
    [Labels.gpuTopology]: shape.topology,
    'neuronetes.io/gpu-bandwidth': shape.bandwidth,
    ...(shape.mig !== undefined ? { [Labels.migCapable]: 'true', [Labels.migConfig]: shape.mig } : {}),
  };
  const resources = { cpu: '96', memory: '1100Gi', pods: '110', 'ephemeral-storage': '7500Gi', [GPU_RESOURCE]: String(shape.gpus) };
  // Built as a plain object, then typed: real Node JSON carries far more than the schema names.
  const wire = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      resourceVersion: String(100_000 + index),
      creationTimestamp: '2025-01-15T08:00:00Z',
      labels,
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        ...(cached.length > 0 ? { [Annotations.cachedModels]: cached.join(',') } : {}),
      },
    },
    spec: { unschedulable: false, providerID: `aws:///${zone}/i-${(0x1000000 + index).toString(16)}` },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'DiskPressure', status: 'False' },
        { type: 'PIDPressure', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
      addresses: [
        { type: 'InternalIP', address: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}` },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.0',
        containerRuntimeVersion: 'containerd://1.7.24',
        kernelVersion: '6.1.0-28-amd64',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        architecture: 'amd64',
      },
      images: IMAGES.map((image, i) => ({ names: [image], sizeBytes: 50_000_000 * (i + 1) })),
    },
  };
  const node: Node = wire;
  return { node, shape };
}

interface PoolShape {
  readonly name: string;
  readonly model: (typeof MODELS)[number]['name'];
  readonly spec: Omit<AgentPool['spec'], 'agentClassRef' | 'minReplicas' | 'maxReplicas'>;
  /** GPUs (or MIG slices) one replica asks for. */
  readonly request: { readonly resource: string; readonly count: number };
}

const QUEUE_METRICS = {
  metrics: [
    { type: 'tokens-in-queue', target: '1000' },
    { type: 'ttft-p95', target: '500ms' },
  ],
  cooldownPeriod: '5m',
};

const POOLS: readonly PoolShape[] = [
  {
    name: 'code-assistant',
    model: 'llama-3-70b',
    request: { resource: GPU_RESOURCE, count: 2 },
    spec: { gpuRequirements: { count: 2, type: 'A100', memory: '80Gi', topology: { locality: 'nvlink', minBandwidth: '300Gi' } }, autoscaling: QUEUE_METRICS },
  },
  {
    name: 'research-agent',
    model: 'mixtral-8x7b',
    request: { resource: GPU_RESOURCE, count: 4 },
    spec: {
      gpuRequirements: { count: 4, type: 'H100', memory: '80Gi', topology: { locality: 'same-node' } },
      scheduling: { dataLocality: { vectorStoreAffinity: ['docs-vectors'], cacheAffinity: ['kv-cache'], antiAffinity: ['code-vectors'] } },
      autoscaling: QUEUE_METRICS,
    },
  },
  {
    name: 'support-bot',
    model: 'mistral-7b',
    request: { resource: GPU_RESOURCE, count: 1 },
    spec: {
      gpuRequirements: { count: 1, type: 'L4', memory: '24Gi' },
      scheduling: { costOptimization: { enabled: true, spotEnabled: true, maxCostPerHour: 10 }, nodeSelector: { [Labels.zone]: 'us-east-1a' } },
      autoscaling: { metrics: [{ type: 'concurrent-sessions', target: '50' }] },
    },
  },
  {
    name: 'triage-agent',
    model: 'phi-3-mini',
    request: { resource: 'nvidia.com/mig-2g.10gb', count: 1 },
    spec: { gpuRequirements: { count: 1, type: 'A100' }, migProfile: '2g.10gb', autoscaling: { metrics: [{ type: 'queue-depth', target: '20' }] } },
  },
  {
    name: 'batch-summarizer',
    model: 'phi-3-mini',
    request: { resource: GPU_RESOURCE, count: 1 },
    spec: {
      gpuRequirements: { count: 1 },
      scheduling: { costOptimization: { enabled: true, spotEnabled: true } },
      autoscaling: { metrics: [{ type: 'tokens-per-second', target: '2000' }] },
    },
  },
];

function podOf(pool: PoolShape, name: string, uid: string, nodeName: string | undefined, storeLabel: string | undefined): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NAMESPACE,
      uid,
      labels: {
        'app.kubernetes.io/name': pool.name,
        [Labels.agentPool]: pool.name,
        ...(storeLabel !== undefined ? { 'neuronetes.io/vector-store': storeLabel } : {}),
      },
    },
    spec: {
      schedulerName: 'neuronetes-scheduler',
      ...(nodeName !== undefined ? { nodeName } : {}),
      containers: [
        {
          name: 'agent',
          resources: {
            requests: { cpu: '4', memory: '32Gi', [pool.request.resource]: String(pool.request.count) },
            limits: { [pool.request.resource]: String(pool.request.count) },
          },
        },
      ],
    },
    status: { phase: nodeName !== undefined ? 'Running' : 'Pending' },
  };
}

export interface GeneratedCluster {
  readonly objects: ClusterObjects;
  /** One unbound pod per pool, then one pod that belongs to no pool: what the scheduler asks about. */
  readonly pendingPods: readonly Pod[];
  readonly poolNames: readonly string[];
}

export function generateCluster(nodeCount: number, seed = 1): GeneratedCluster {
  const next = random(seed * 7919 + nodeCount);
  const nodes: Node[] = [];
  const pods: Pod[] = [];
  let podSeq = 0;
  const uid = (): string => `11111111-0000-4000-8000-${String(++podSeq).padStart(12, '0')}`;
  for (let i = 0; i < nodeCount; i++) {
    const { node, shape } = makeNode(i, next);
    nodes.push(node);
    // Fill each node to a random level with replicas of the pools its GPUs suit.
    const suited = POOLS.filter((p) => p.spec.gpuRequirements?.type === undefined || p.spec.gpuRequirements.type === shape.gpuType);
    let free = shape.gpus;
    const target = Math.floor(next() * (shape.gpus + 1));
    while (free > shape.gpus - target && suited.length > 0) {
      const pool = suited[Math.floor(next() * suited.length)] as PoolShape;
      if (pool.request.resource !== GPU_RESOURCE && shape.mig === undefined) break;
      const count = pool.request.resource === GPU_RESOURCE ? pool.request.count : 0;
      if (count > free) break;
      free -= count === 0 ? 1 : count;
      const store = next() < 0.25 ? STORES[Math.floor(next() * STORES.length)] : undefined;
      pods.push(podOf(pool, `${pool.name}-${podSeq}`, uid(), node.metadata.name, store));
    }
  }
  const models: Model[] = MODELS.map((m) => ({
    apiVersion: API_VERSION,
    kind: 'Model',
    metadata: { name: m.name, namespace: NAMESPACE },
    spec: { weightsURI: m.uri, size: m.size, format: 'safetensors', cachePolicy: { priority: 'high', evictionPolicy: 'lru' } },
  }));
  const agentClasses: AgentClass[] = MODELS.map((m) => ({
    apiVersion: API_VERSION,
    kind: 'AgentClass',
    metadata: { name: `${m.name}-class`, namespace: NAMESPACE },
    spec: {
      modelRef: { name: m.name },
      maxContextLength: 32768,
      guardrails: [
        { type: 'pii-detection', action: 'redact', threshold: 0.8 },
        { type: 'safety-check', action: 'block' },
      ],
      slo: { ttft: '500ms', tokensPerSecond: 40 },
    },
  }));
  const agentPools: AgentPool[] = POOLS.map((p) => ({
    apiVersion: API_VERSION,
    kind: 'AgentPool',
    metadata: { name: p.name, namespace: NAMESPACE },
    spec: { agentClassRef: { name: `${p.model}-class` }, minReplicas: 1, maxReplicas: 50, ...p.spec },
  }));
  const pendingPods = [
    ...POOLS.map((p) => podOf(p, `${p.name}-pending`, uid(), undefined, undefined)),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'plain-web-0', namespace: 'default', uid: uid() },
      spec: { containers: [{ name: 'web', resources: { requests: { cpu: '1' } } }] },
      status: { phase: 'Pending' },
    } satisfies Pod,
  ];
  return { objects: { nodes, pods, agentPools, agentClasses, models }, pendingPods, poolNames: POOLS.map((p) => p.name) };
}
