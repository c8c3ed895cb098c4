/**
 * Builders for plugin tests: nodes labelled as NVIDIA GPU Feature Discovery and the cloud label them,
 * pods, AgentPools, AgentClasses, Models, and a ClusterView holding them, the way the service's
 * cluster source builds one. Every builder returns a new plain object the test may change.
 */
import type { Node, Pod, Taint } from '../api/kubernetes.ts';
import {
  CapacityTypeLabels,
  GfdLabels,
  Labels,
  type AgentClass,
  type AgentPool,
  type AgentPoolSpec,
  type GpuRequirements,
  type MetricSpec,
  type Model,
} from '../api/neuronetes.ts';
import { ClusterState, type ClusterView } from '../cluster/cluster-view.ts';

/** What every node builder accepts. */
export interface NodeOptions {
  name: string;
  /** topology.kubernetes.io/zone. */
  zone?: string;
  /** As Karpenter writes it (karpenter.sh/capacity-type). */
  capacityType?: 'on-demand' | 'spot';
  /** node.kubernetes.io/instance-type. */
  instanceType?: string;
  /** Added last: they override the builder's own. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Cordoned (`kubectl cordon`). */
  unschedulable?: boolean;
  taints?: Taint[];
  /** allocatable cpu, default '16'. */
  cpu?: string;
  /** allocatable memory, default '64Gi'. */
  memory?: string;
}

/** Mixed strategy: the GPUs are cut into slices of several profiles, each its own resource. */
export interface MixedMig {
  strategy: 'mixed';
  /** Slices per profile, e.g. `{ '1g.10gb': 4, '3g.40gb': 1 }`. */
  slices: Record<string, number>;
  /** The MIG manager's layout name (nvidia.com/mig.config), e.g. 'all-balanced'. */
  config?: string;
}

/** Single strategy: every GPU is cut into slices of one profile, exposed as nvidia.com/gpu. */
export interface SingleMig {
  strategy: 'single';
  profile: string;
  slices: number;
  /** MiB per slice, what GFD then reports as nvidia.com/gpu.memory. */
  memoryMiB: number;
  config?: string;
}

export interface GpuNodeOptions extends NodeOptions {
  /** nvidia.com/gpu.product, default 'NVIDIA-A100-SXM4-80GB'. */
  product?: string;
  /** MiB per GPU (nvidia.com/gpu.memory); default what GFD reports for known products, else the product's stated GB. */
  memoryMiB?: number;
  /** Physical GPUs (nvidia.com/gpu.count, allocatable nvidia.com/gpu), default 8. */
  gpus?: number;
  /** nvidia.com/gpu.family, e.g. 'ampere', 'hopper'. */
  family?: string;
  /** nvidia.com/gpu.clique (`<cluster UUID>.<clique id>`): the GPUs share an NVLink domain. */
  nvlinkClique?: string;
  mig?: MixedMig | SingleMig;
}

/** What GFD reports as nvidia.com/gpu.memory for common products: a little under their marketed size. */
const REPORTED_MIB: Readonly<Record<string, number>> = {
  'NVIDIA-A100-SXM4-80GB': 81920,
  'NVIDIA-A100-SXM4-40GB': 40960,
  'NVIDIA-H100-80GB-HBM3': 81559,
  'NVIDIA-H200': 143771,
  'NVIDIA-A10G': 23028,
  'NVIDIA-L4': 23034,
};

const DEFAULT_PRODUCT = 'NVIDIA-A100-SXM4-80GB';

function reportedMiB(product: string): number | undefined {
  const known = REPORTED_MIB[product];
  if (known !== undefined) return known;
  const stated = /-(\d+)GB\b/.exec(product);
  return stated === null ? undefined : Number(stated[1]) * 1024;
}

function baseNode(o: NodeOptions, labels: Record<string, string>, allocatable: Record<string, string>): Node {
  const all: Record<string, string> = {
    'kubernetes.io/hostname': o.name,
    ...(o.zone !== undefined ? { [Labels.zone]: o.zone } : {}),
    ...(o.capacityType !== undefined ? { [CapacityTypeLabels.karpenter]: o.capacityType } : {}),
    ...(o.instanceType !== undefined ? { [Labels.instanceType]: o.instanceType } : {}),
    ...labels,
    ...o.labels,
  };
  const resources = { cpu: o.cpu ?? '16', memory: o.memory ?? '64Gi', pods: '110', ...allocatable };
  const spec = { ...(o.unschedulable === true ? { unschedulable: true } : {}), ...(o.taints !== undefined ? { taints: o.taints } : {}) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: o.name, labels: all, ...(o.annotations !== undefined ? { annotations: { ...o.annotations } } : {}) },
    ...(Object.keys(spec).length > 0 ? { spec } : {}),
    status: { capacity: { ...resources }, allocatable: resources },
  };
}

function migLabels(mig: MixedMig | SingleMig | undefined): Record<string, string> {
  if (mig === undefined) return { [GfdLabels.migCapable]: 'false', [GfdLabels.migStrategy]: 'single' };
  const labels: Record<string, string> = { [GfdLabels.migCapable]: 'true', [GfdLabels.migStrategy]: mig.strategy };
  if (mig.config !== undefined) labels[GfdLabels.migConfig] = mig.config;
  if (mig.strategy === 'mixed') for (const [profile, n] of Object.entries(mig.slices)) labels[`nvidia.com/mig-${profile}.count`] = String(n);
  return labels;
}

/**
 * A GPU node as GFD labels it: nvidia.com/gpu.present, .product, .memory (MiB), .count, the MIG labels,
 * and allocatable nvidia.com/gpu; under MIG the product, memory and resources GFD reports for the strategy.
 */
export function gpuNode(o: GpuNodeOptions): Node {
  const product = o.product ?? DEFAULT_PRODUCT;
  const gpus = o.gpus ?? 8;
  const mig = o.mig;
  const single = mig?.strategy === 'single' ? mig : undefined;
  const mib = single?.memoryMiB ?? o.memoryMiB ?? reportedMiB(product);
  const labels: Record<string, string> = {
    'nvidia.com/gpu.present': 'true',
    [GfdLabels.product]: single !== undefined ? `${product}-MIG-${single.profile}` : product,
    ...(mib !== undefined ? { [GfdLabels.memory]: String(mib) } : {}),
    [GfdLabels.count]: String(single?.slices ?? gpus),
    ...(o.family !== undefined ? { [GfdLabels.family]: o.family } : {}),
    ...(o.nvlinkClique !== undefined ? { [GfdLabels.clique]: o.nvlinkClique } : {}),
    ...migLabels(mig),
  };
  const allocatable: Record<string, string> = { 'nvidia.com/gpu': String(mig === undefined ? gpus : (single?.slices ?? 0)) };
  if (mig?.strategy === 'mixed') for (const [profile, n] of Object.entries(mig.slices)) allocatable[`nvidia.com/mig-${profile}`] = String(n);
  return baseNode(o, labels, allocatable);
}

/** A node without GPUs. */
export function cpuNode(o: NodeOptions): Node {
  return baseNode(o, {}, {});
}

export interface PodOptions {
  name: string;
  /** Default 'default'. */
  namespace?: string;
  /** The AgentPool it belongs to (the neuronetes.io/agent-pool label). */
  pool?: string;
  /** Whole GPUs requested (nvidia.com/gpu). */
  gpus?: number;
  /** MIG slices requested per profile, e.g. `{ '2g.20gb': 1 }` → nvidia.com/mig-2g.20gb. */
  mig?: Record<string, number>;
  /** Bound to this node (phase Running unless `phase` says otherwise). */
  nodeName?: string;
  /** Default Running when bound, else Pending. */
  phase?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Put the device requests in limits only (Kubernetes then defaults the requests to them). */
  limitsOnly?: boolean;
  /** GPUs an init container requests. */
  initGpus?: number;
}

export function pod(o: PodOptions): Pod {
  const resources: Record<string, string> = {};
  if (o.gpus !== undefined) resources['nvidia.com/gpu'] = String(o.gpus);
  for (const [profile, n] of Object.entries(o.mig ?? {})) resources[`nvidia.com/mig-${profile}`] = String(n);
  const labels = { ...(o.pool !== undefined ? { [Labels.agentPool]: o.pool } : {}), ...o.labels };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace ?? 'default',
      labels,
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
      ...(o.annotations !== undefined ? { annotations: { ...o.annotations } } : {}),
    },
    spec: {
      ...(o.nodeName !== undefined ? { nodeName: o.nodeName } : {}),
      containers: [{ name: 'agent', resources: o.limitsOnly === true ? { limits: resources } : { requests: resources } }],
      ...(o.initGpus !== undefined ? { initContainers: [{ name: 'init', resources: { requests: { 'nvidia.com/gpu': String(o.initGpus) } } }] } : {}),
    },
    status: { phase: o.phase ?? (o.nodeName !== undefined ? 'Running' : 'Pending') },
  };
}

export interface AgentPoolOptions {
  name: string;
  namespace?: string;
  /** The AgentClass it runs, default the pool's name. */
  agentClass?: string;
  /** Default 1. */
  minReplicas?: number;
  /** Default 4. */
  maxReplicas?: number;
  gpu?: GpuRequirements;
  /** The metrics it scales on (spec.autoscaling.metrics). */
  metrics?: MetricSpec[];
  /** Anything else of the spec; overrides the options above. */
  spec?: Partial<AgentPoolSpec>;
  /** status.replicas and status.readyReplicas. */
  replicas?: number;
  readyReplicas?: number;
}

export function agentPool(o: AgentPoolOptions): AgentPool {
  const status = {
    ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
    ...(o.readyReplicas !== undefined ? { readyReplicas: o.readyReplicas } : {}),
  };
  return {
    apiVersion: 'neuronetes.io/v1alpha1',
    kind: 'AgentPool',
    metadata: { name: o.name, namespace: o.namespace ?? 'default' },
    spec: {
      agentClassRef: { name: o.agentClass ?? o.name },
      minReplicas: o.minReplicas ?? 1,
      maxReplicas: o.maxReplicas ?? 4,
      ...(o.gpu !== undefined ? { gpuRequirements: o.gpu } : {}),
      ...(o.metrics !== undefined ? { autoscaling: { metrics: o.metrics } } : {}),
      ...o.spec,
    },
    ...(Object.keys(status).length > 0 ? { status } : {}),
  };
}

export interface AgentClassOptions {
  name: string;
  namespace?: string;
  /** The Model it serves, default the class's name. */
  model?: string;
  spec?: Partial<AgentClass['spec']>;
}

export function agentClass(o: AgentClassOptions): AgentClass {
  return {
    apiVersion: 'neuronetes.io/v1alpha1',
    kind: 'AgentClass',
    metadata: { name: o.name, namespace: o.namespace ?? 'default' },
    spec: { modelRef: { name: o.model ?? o.name }, ...o.spec },
  };
}

export interface ModelOptions {
  name: string;
  namespace?: string;
  /** Default `hf://org/<name>`. */
  weightsURI?: string;
  /** Default '16Gi'. */
  size?: string;
  spec?: Partial<Model['spec']>;
}

export function model(o: ModelOptions): Model {
  return {
    apiVersion: 'neuronetes.io/v1alpha1',
    kind: 'Model',
    metadata: { name: o.name, namespace: o.namespace ?? 'default' },
    spec: { weightsURI: o.weightsURI ?? `hf://org/${o.name}`, size: o.size ?? '16Gi', ...o.spec },
  };
}

export interface ClusterInput {
  nodes?: readonly Node[];
  pods?: readonly Pod[];
  pools?: readonly AgentPool[];
  classes?: readonly AgentClass[];
  models?: readonly Model[];
}

/** Distinct versions, so a plugin that remembers facts by picture version never mixes two tests' pictures. */
let pictures = 0;

/** The cluster as the service's cluster source pictures it: indexed, read-only, with `memo`. */
export function clusterView(input: ClusterInput = {}): ClusterView {
  return clusterState(input);
}

/** The same picture as the service's own class, for tests of the framework that derive pictures from it (`next`). */
export function clusterState(input: ClusterInput = {}): ClusterState {
  return new ClusterState(
    { nodes: input.nodes ?? [], pods: input.pods ?? [], agentPools: input.pools ?? [], agentClasses: input.classes ?? [], models: input.models ?? [] },
    ++pictures,
  );
}
