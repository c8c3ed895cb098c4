/**
 * What the built-in scheduler plugins know about a node: its labels parsed once and its GPU and MIG
 * accounting summed once per picture of the cluster (ClusterView.memo), so filter() and score() on
 * the hot path are map lookups. A malformed label is kept as text with no value: plugins say so in
 * their reasons instead of guessing.
 */
import { GPU_RESOURCE, type Container, type Node, type Pod } from '../../../src/api/kubernetes.ts';
import { Annotations, Labels } from '../../../src/api/neuronetes.ts';
import type { ClusterView } from '../../../src/cluster/cluster-view.ts';
import { tryParseQuantity } from '../../../src/util/quantity.ts';

/** Not in the NeuroNetes label list, but advertised by its node labeller; read when present. */
export const GPU_BANDWIDTH_LABEL = 'neuronetes.io/gpu-bandwidth';
export const MIG_RESOURCE_PREFIX = 'nvidia.com/mig-';

/** A label that should hold a number: `value` is undefined when it is absent or malformed. */
export interface LabelValue {
  readonly value: number | undefined;
  /** The label as written; present with no value means malformed. */
  readonly text: string | undefined;
}

export interface NodeFacts {
  readonly name: string;
  /** As labelled, for messages; `gpuTypeKey` is lower-case for comparing. */
  readonly gpuType: string | undefined;
  readonly gpuTypeKey: string | undefined;
  /** Per GPU, in bytes. */
  readonly gpuMemory: LabelValue;
  readonly allocatableGpus: number;
  /** Set when allocatable nvidia.com/gpu is there but not a whole number. */
  readonly allocatableProblem: string | undefined;
  /** GPUs requested by the active pods bound to the node (all namespaces). */
  readonly usedGpus: number;
  readonly freeGpus: number;
  /** Lower-case `neuronetes.io/gpu-topology` (nvlink, pcie…). */
  readonly interconnect: string | undefined;
  readonly bandwidth: LabelValue;
  readonly migCapable: boolean;
  /** Slices per MIG profile from `neuronetes.io/mig-config`; undefined when absent or malformed. */
  readonly migSlices: ReadonlyMap<string, number> | undefined;
  readonly migConfigText: string | undefined;
  readonly migUsed: ReadonlyMap<string, number>;
  readonly cachedModels: ReadonlySet<string>;
  readonly costPerHour: LabelValue;
  readonly instanceType: string | undefined;
  /** The label that marks the node spot (`karpenter.sh/capacity-type=spot`…), or undefined. */
  readonly spotLabel: string | undefined;
  readonly zone: string | undefined;
}

/** Adds each container's GPU and MIG requests into `into` (made on first need), combined by `combine`. */
function addRequests(into: Map<string, number> | undefined, containers: readonly Container[] | undefined, combine: (a: number, b: number) => number): Map<string, number> | undefined {
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

const DECIMAL = /^\d+(\.\d+)?$/;

function quantityLabel(text: string | undefined): LabelValue {
  return { text, value: tryParseQuantity(text) };
}

function decimalLabel(text: string | undefined): LabelValue {
  return { text, value: text !== undefined && DECIMAL.test(text) ? Number(text) : undefined };
}

/** `1g.5gb:7,2g.10gb:3` → {1g.5gb: 7, 2g.10gb: 3}; undefined when any entry is malformed. */
export function parseMigConfig(text: string): Map<string, number> | undefined {
  const slices = new Map<string, number>();
  for (const entry of text.split(',')) {
    const m = /^\s*([0-9a-z.+-]+):(\d+)\s*$/i.exec(entry);
    if (m === null) return undefined;
    slices.set((m[1] as string).toLowerCase(), Number(m[2]));
  }
  return slices;
}

function spotLabelOf(labels: Readonly<Record<string, string>>): string | undefined {
  if (labels[Labels.capacityType]?.toLowerCase() === 'spot') return `${Labels.capacityType}=spot`;
  if (labels[Labels.gkeSpot]?.toLowerCase() === 'true') return `${Labels.gkeSpot}=true`;
  return undefined;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export function computeNodeFacts(node: Node, pods: readonly Pod[]): NodeFacts {
  const labels = node.metadata.labels ?? NO_LABELS;
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
  const rawAllocatable = node.status?.allocatable?.[GPU_RESOURCE];
  const parsed = rawAllocatable === undefined ? 0 : tryParseQuantity(rawAllocatable);
  const allocatableOk = parsed !== undefined && Number.isInteger(parsed) && parsed >= 0;
  const allocatableGpus = allocatableOk ? parsed : 0;
  const gpuType = labels[Labels.gpuType];
  const migConfigText = labels[Labels.migConfig];
  const cached = node.metadata.annotations?.[Annotations.cachedModels];
  return {
    name: node.metadata.name,
    gpuType,
    gpuTypeKey: gpuType?.toLowerCase(),
    gpuMemory: quantityLabel(labels[Labels.gpuMemory]),
    allocatableGpus,
    allocatableProblem: allocatableOk ? undefined : `allocatable ${GPU_RESOURCE} ${JSON.stringify(rawAllocatable)} is not a whole number`,
    usedGpus,
    freeGpus: Math.max(0, allocatableGpus - usedGpus),
    interconnect: labels[Labels.gpuTopology]?.toLowerCase(),
    bandwidth: quantityLabel(labels[GPU_BANDWIDTH_LABEL]),
    migCapable: labels[Labels.migCapable]?.toLowerCase() === 'true',
    migSlices: migConfigText === undefined ? undefined : parseMigConfig(migConfigText),
    migConfigText,
    migUsed,
    cachedModels: new Set((cached ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')),
    costPerHour: decimalLabel(labels[Labels.costPerHour]),
    instanceType: labels[Labels.instanceType],
    spotLabel: spotLabelOf(labels),
    zone: labels[Labels.zone],
  };
}

/**
 * The facts last computed per Node object, with the pods they counted. Informers replace an object
 * when it changes and never edit it, so a node whose object and pods are the same as last time has
 * the same facts: a new picture (one per pod event, many a second on a busy cluster) recomputes only
 * the nodes that changed instead of all of them.
 */
const lastFacts = new WeakMap<Node, { readonly pods: readonly Pod[]; readonly facts: NodeFacts }>();

function samePods(a: readonly Pod[], b: readonly Pod[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function factsOf(node: Node, pods: readonly Pod[]): NodeFacts {
  const last = lastFacts.get(node);
  if (last !== undefined && samePods(last.pods, pods)) return last.facts;
  const facts = computeNodeFacts(node, pods);
  lastFacts.set(node, { pods, facts });
  return facts;
}

/**
 * The picture last asked about and its facts: a filter or score pass asks once per node, thousands
 * of times in a row about the same picture, so an identity check spares the memo's lookup; and the
 * next picture's facts start from these.
 */
let last: { view: ClusterView; facts: ReadonlyMap<string, NodeFacts> } | undefined;

/**
 * Every node's facts. A picture made from the last one by a few pod changes (the usual case: one per
 * bind) takes that one's map and recomputes only the nodes whose pods changed, instead of visiting
 * every node of the cluster.
 */
function computeAllNodeFacts(view: ClusterView): ReadonlyMap<string, NodeFacts> {
  const before = last;
  const changed = before === undefined ? undefined : view.nodesWithChangedPodsSince(before.view);
  if (before !== undefined && changed !== undefined) {
    const all = new Map(before.facts);
    for (const name of changed) {
      const node = view.node(name);
      if (node !== undefined) all.set(name, factsOf(node, view.podsOnNode(name)));
    }
    return all;
  }
  const all = new Map<string, NodeFacts>();
  for (const node of view.nodes()) all.set(node.metadata.name, factsOf(node, view.podsOnNode(node.metadata.name)));
  return all;
}

/** Every known node's facts by name, for plugins that aggregate over the cluster (zones, spreads). */
export function nodeFactsByName(view: ClusterView): ReadonlyMap<string, NodeFacts> {
  if (last?.view !== view) last = { view, facts: view.memo('builtin/node-facts', computeAllNodeFacts) };
  return last.facts;
}

/** Nodes the cache does not know (full-node mode), computed once per request's Node object. */
const strangers = new WeakMap<Node, { view: ClusterView; facts: NodeFacts }>();

/**
 * The facts for a node by name from the cluster picture; a node the picture does not know (sent in
 * full by the scheduler before the cache has it) is computed from the Node given.
 */
export function nodeFacts(view: ClusterView, node: Node): NodeFacts {
  const known = nodeFactsByName(view).get(node.metadata.name);
  if (known !== undefined) return known;
  const seen = strangers.get(node);
  if (seen !== undefined && seen.view === view) return seen.facts;
  const facts = computeNodeFacts(node, view.podsOnNode(node.metadata.name));
  strangers.set(node, { view, facts });
  return facts;
}
