/**
 * What scheduler plugins know about a node (ClusterView.nodeFacts): its labels read once
 * (node-labels.ts says from where) and its GPU and MIG accounting summed once per picture of the
 * cluster, so filter() and score() on the hot path are map lookups. A label that cannot be read
 * leaves its fact unknown with the reason: plugins say so instead of guessing.
 */
import { GPU_RESOURCE, type Container, type Node, type Pod } from '../api/kubernetes.ts';
import { Annotations, GfdLabels, Labels } from '../api/neuronetes.ts';
import { tryParseQuantity } from '../util/quantity.ts';
import type { ClusterView } from './cluster-view.ts';
import {
  FactSources,
  fromLabels,
  gpuMemoryOf,
  known,
  MIG_PROFILE,
  singleStrategyProfile,
  typeTokens,
  UNKNOWN,
  type CapacityType,
  type Fact,
  type MigStrategy,
} from './node-labels.ts';

export const MIG_RESOURCE_PREFIX = 'nvidia.com/mig-';

export interface NodeFacts {
  readonly name: string;
  /** As labelled (`A100`, `NVIDIA-A100-SXM4-80GB`), for messages. */
  readonly gpuType: Fact<string>;
  /** The type's lower-case words, for typeMatches(); empty when unknown. */
  readonly gpuTypeTokens: readonly string[];
  /** Per GPU, in bytes. */
  readonly gpuMemory: Fact<number>;
  readonly gpuCount: Fact<number>;
  readonly gpuFamily: Fact<string>;
  readonly allocatableGpus: number;
  /** Set when allocatable nvidia.com/gpu is there but not a whole number. */
  readonly allocatableProblem: string | undefined;
  /** GPUs requested by the active pods bound to the node (all namespaces). */
  readonly usedGpus: number;
  readonly freeGpus: number;
  /** From labels only: the topology plugin adds its instance-type table (interconnectOf). */
  readonly interconnect: Fact<string>;
  readonly nvlinkDomain: Fact<string>;
  readonly bandwidth: Fact<number>;
  readonly migCapable: Fact<boolean>;
  readonly migStrategy: Fact<MigStrategy>;
  readonly migConfigName: Fact<string>;
  /** Slices per MIG profile (lower-case), free or not. */
  readonly migSlices: Fact<ReadonlyMap<string, number>>;
  /** Under the single MIG strategy, the profile every nvidia.com/gpu of the node is. */
  readonly migSingleProfile: string | undefined;
  /** Slices per profile requested by the active pods bound to the node. */
  readonly migUsed: ReadonlyMap<string, number>;
  readonly cachedModels: ReadonlySet<string>;
  /** Undefined value with no problem: no capacity-type label at all, so on-demand. */
  readonly capacityType: Fact<CapacityType>;
  readonly costPerHour: Fact<number>;
  readonly instanceType: Fact<string>;
  readonly zone: string | undefined;
  /** Whether anything says the node has GPUs (resources or GPU labels), for the census. */
  readonly hasGpus: boolean;
}

/** Adds each container's GPU and MIG requests into `into` (made on first need), combined by `combine`. */
function addRequests(
  into: Map<string, number> | undefined,
  containers: readonly Container[] | undefined,
  combine: (a: number, b: number) => number,
): Map<string, number> | undefined {
  for (const c of containers ?? []) {
    const requests = c.resources?.requests;
    const limits = c.resources?.limits;
    // An extended resource's request defaults to its limit, so a GPU may be named in limits only.
    for (const list of [requests, limits]) {
      if (list === undefined) continue;
      for (const resource in list) {
        if (resource !== GPU_RESOURCE && !resource.startsWith(MIG_RESOURCE_PREFIX)) continue;
        if (list === limits && requests?.[resource] !== undefined) continue;
        const n = tryParseQuantity(list[resource]);
        if (n === undefined || n <= 0) continue;
        into ??= new Map();
        into.set(resource, combine(into.get(resource) ?? 0, n));
      }
    }
  }
  return into;
}

const sum = (a: number, b: number): number => a + b;

/**
 * A pod's effective GPU and MIG requests, kube-scheduler's way: containers summed, init containers
 * (which run one at a time) as their maximum. Undefined for the many pods that request none.
 */
export function podDeviceRequests(pod: Pod): ReadonlyMap<string, number> | undefined {
  const running = addRequests(undefined, pod.spec?.containers, sum);
  const init = addRequests(undefined, pod.spec?.initContainers, Math.max);
  if (init === undefined) return running;
  const effective = running ?? new Map<string, number>();
  for (const [resource, n] of init) if (n > (effective.get(resource) ?? 0)) effective.set(resource, n);
  return effective;
}

/** Informer objects are replaced, never edited: one answer per Pod object, as podKeyOf keys them. */
const podMig = new WeakMap<Pod, ReadonlyMap<string, number>>();
const NO_SLICES: ReadonlyMap<string, number> = new Map();

/** The MIG slices a pod requests itself, per lower-case profile; computed once per Pod object. */
export function podMigRequests(pod: Pod): ReadonlyMap<string, number> {
  let slices = podMig.get(pod);
  if (slices === undefined) {
    const requests = podDeviceRequests(pod);
    const found = new Map<string, number>();
    for (const [resource, n] of requests ?? [])
      if (resource.startsWith(MIG_RESOURCE_PREFIX)) found.set(resource.slice(MIG_RESOURCE_PREFIX.length).toLowerCase(), n);
    slices = found.size === 0 ? NO_SLICES : found;
    podMig.set(pod, slices);
  }
  return slices;
}

/** Allocatable nvidia.com/mig-<profile> resources, as the device plugin exposes them (mixed strategy). */
function allocatableSlices(allocatable: Resources): Fact<ReadonlyMap<string, number>> {
  const slices = new Map<string, number>();
  for (const resource in allocatable) {
    if (!resource.startsWith(MIG_RESOURCE_PREFIX)) continue;
    const text = allocatable[resource];
    const n = tryParseQuantity(text);
    if (n === undefined || !Number.isInteger(n) || n < 0)
      return { value: undefined, from: `allocatable ${resource}`, problem: `allocatable ${resource} ${JSON.stringify(text)} is not a whole number` };
    slices.set(resource.slice(MIG_RESOURCE_PREFIX.length).toLowerCase(), n);
  }
  return slices.size === 0 ? UNKNOWN : known(slices, `allocatable ${[...slices.keys()].map((p) => MIG_RESOURCE_PREFIX + p).join(', ')}`);
}

const MIG_COUNT_LABEL = /^nvidia\.com\/mig-(.+)\.count$/;

/** GFD's mixed-strategy `nvidia.com/mig-<profile>.count` labels. */
function countLabelSlices(labels: Readonly<Record<string, string>>): Fact<ReadonlyMap<string, number>> {
  const slices = new Map<string, number>();
  const from: string[] = [];
  for (const label in labels) {
    if (!label.startsWith(MIG_RESOURCE_PREFIX)) continue;
    const profile = MIG_COUNT_LABEL.exec(label)?.[1]?.toLowerCase();
    if (profile === undefined) continue;
    const text = labels[label] as string;
    from.push(`${label}=${text}`);
    if (!MIG_PROFILE.test(profile))
      return { value: undefined, from: `${label}=${text}`, problem: `${label}: ${JSON.stringify(profile)} is not a MIG profile (e.g. 1g.5gb)` };
    if (!/^\d+$/.test(text)) return { value: undefined, from: `${label}=${text}`, problem: `${label} ${JSON.stringify(text)} is not a whole number` };
    slices.set(profile, Number(text));
  }
  return slices.size === 0 ? UNKNOWN : known(slices, from.join(', '));
}

/**
 * MIG slices per profile, from the first source the node has: `neuronetes.io/mig-config`, allocatable
 * nvidia.com/mig-<profile> (mixed strategy), GFD's nvidia.com/mig-<profile>.count labels, and under
 * the single strategy the product's `-MIG-<profile>` with allocatable nvidia.com/gpu.
 */
function migSlicesOf(
  labels: Readonly<Record<string, string>>,
  allocatable: Resources,
  single: string | undefined,
  gpus: Fact<number>,
): Fact<ReadonlyMap<string, number>> {
  const layout = fromLabels(labels, FactSources.migLayout);
  if (layout.from !== undefined) return layout;
  const exposed = allocatableSlices(allocatable);
  if (exposed.from !== undefined) return exposed;
  const counted = countLabelSlices(labels);
  if (counted.from !== undefined) return counted;
  if (single === undefined) return UNKNOWN;
  const from = `${GfdLabels.product}=${labels[GfdLabels.product] ?? ''} (single strategy) and allocatable ${GPU_RESOURCE}`;
  return gpus.value === undefined ? { value: undefined, from, problem: gpus.problem } : known(new Map([[single, gpus.value]]), from);
}

function allocatableGpusOf(allocatable: Resources): Fact<number> {
  const text = allocatable[GPU_RESOURCE];
  if (text === undefined) return UNKNOWN;
  const n = tryParseQuantity(text);
  const from = `allocatable ${GPU_RESOURCE}`;
  return n !== undefined && Number.isInteger(n) && n >= 0
    ? known(n, from)
    : { value: undefined, from, problem: `allocatable ${GPU_RESOURCE} ${JSON.stringify(text)} is not a whole number` };
}

type Resources = Readonly<Record<string, string | number>>;

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export function computeNodeFacts(node: Node, pods: readonly Pod[]): NodeFacts {
  const labels = node.metadata.labels ?? NO_LABELS;
  const allocatable: Resources = node.status?.allocatable ?? NO_LABELS;
  let usedGpus = 0;
  const migUsed = new Map<string, number>();
  for (const pod of pods) {
    const requests = podDeviceRequests(pod);
    if (requests === undefined) continue;
    for (const [resource, n] of requests) {
      if (resource === GPU_RESOURCE) usedGpus += n;
      else {
        const profile = resource.slice(MIG_RESOURCE_PREFIX.length).toLowerCase();
        migUsed.set(profile, (migUsed.get(profile) ?? 0) + n);
      }
    }
  }
  const gpus = allocatableGpusOf(allocatable);
  const allocatableGpus = gpus.value ?? 0;
  const migSingleProfile = singleStrategyProfile(labels[GfdLabels.product]);
  // Under the single strategy every nvidia.com/gpu is a slice: GPUs in use are slices in use.
  if (migSingleProfile !== undefined && usedGpus > 0) migUsed.set(migSingleProfile, (migUsed.get(migSingleProfile) ?? 0) + usedGpus);
  const gpuType = fromLabels(labels, FactSources.gpuType);
  const gpuCount = fromLabels(labels, FactSources.gpuCount);
  const migSlices = migSlicesOf(labels, allocatable, migSingleProfile, gpus);
  const cached = node.metadata.annotations?.[Annotations.cachedModels];
  return {
    name: node.metadata.name,
    gpuType,
    gpuTypeTokens: gpuType.value === undefined ? [] : typeTokens(gpuType.value),
    gpuMemory: gpuMemoryOf(labels),
    gpuCount,
    gpuFamily: fromLabels(labels, FactSources.gpuFamily),
    allocatableGpus,
    allocatableProblem: gpus.problem,
    usedGpus,
    freeGpus: Math.max(0, allocatableGpus - usedGpus),
    interconnect: fromLabels(labels, FactSources.interconnect),
    nvlinkDomain: fromLabels(labels, FactSources.nvlinkDomain),
    bandwidth: fromLabels(labels, FactSources.bandwidth),
    migCapable: fromLabels(labels, FactSources.migCapable),
    migStrategy: fromLabels(labels, FactSources.migStrategy),
    migConfigName: fromLabels(labels, FactSources.migConfigName),
    migSlices,
    migSingleProfile,
    migUsed,
    cachedModels: new Set(
      (cached ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
    capacityType: fromLabels(labels, FactSources.capacityType),
    costPerHour: fromLabels(labels, FactSources.costPerHour),
    instanceType: fromLabels(labels, FactSources.instanceType),
    zone: labels[Labels.zone],
    hasGpus:
      allocatableGpus > 0 ||
      gpus.problem !== undefined ||
      (migSlices.value?.size ?? 0) > 0 ||
      migSlices.problem !== undefined ||
      (gpuCount.value ?? 0) > 0 ||
      gpuType.from !== undefined,
  };
}

function samePods(a: readonly Pod[], b: readonly Pod[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Node facts carried from one picture of a source to the next (ClusterState passes it on). Informers
 * replace an object when it changes and never edit it, so a node whose object and pods are the same
 * as last time has the same facts; and a picture made from the last one by a few pod changes (one per
 * bind) starts from that one's map and recomputes only the nodes whose pods changed.
 */
export class NodeFactsCarry {
  readonly #byNode = new WeakMap<Node, { readonly pods: readonly Pod[]; readonly facts: NodeFacts }>();
  #last: { readonly view: ClusterView; readonly facts: ReadonlyMap<string, NodeFacts> } | undefined;

  #factsOf(node: Node, pods: readonly Pod[]): NodeFacts {
    const seen = this.#byNode.get(node);
    if (seen !== undefined && samePods(seen.pods, pods)) return seen.facts;
    const facts = computeNodeFacts(node, pods);
    this.#byNode.set(node, { pods, facts });
    return facts;
  }

  /** Every node of `view` by name. */
  all(view: ClusterView): ReadonlyMap<string, NodeFacts> {
    const before = this.#last;
    const changed = before === undefined ? undefined : view.nodesWithChangedPodsSince(before.view);
    let all: Map<string, NodeFacts>;
    if (before !== undefined && changed !== undefined) {
      all = new Map(before.facts);
      for (const name of changed) {
        const node = view.node(name);
        if (node !== undefined) all.set(name, this.#factsOf(node, view.podsOnNode(name)));
      }
    } else {
      all = new Map();
      for (const node of view.nodes()) all.set(node.metadata.name, this.#factsOf(node, view.podsOnNode(node.metadata.name)));
    }
    this.#last = { view, facts: all };
    return all;
  }
}
