/**
 * An immutable, indexed picture of the cluster as one source knows it at one moment. Plugins read it
 * on the hot path: node facts are worked out once per picture (and carried over for nodes that did
 * not change), and `memo` lets plugins precompute their own once per picture instead of per call.
 */
import { podKey, type Node, type OwnedObject, type Pod } from '../api/kubernetes.ts';
import { Labels, type AgentClass, type AgentPool, type Model } from '../api/neuronetes.ts';
import { computeNodeFacts, NodeFactsCarry, type NodeFacts } from './node-facts.ts';

export interface ClusterObjects {
  nodes: readonly Node[];
  pods: readonly Pod[];
  agentPools: readonly AgentPool[];
  agentClasses: readonly AgentClass[];
  models: readonly Model[];
  /** Anything else that may own a pod (ReplicaSet, StatefulSet, Deployment…). */
  others?: readonly OwnedObject[];
}

/** Pods that changed, by `namespace/name` (podKeyOf): each as it now is, or undefined where it has gone. */
export type PodChanges = ReadonlyMap<string, Pod | undefined>;

/** What changed since a picture: the kinds given are replaced whole, pods one by one. */
export interface ClusterChanges {
  readonly nodes?: readonly Node[];
  readonly pods?: PodChanges;
  readonly agentPools?: readonly AgentPool[];
  readonly agentClasses?: readonly AgentClass[];
  readonly models?: readonly Model[];
}

export interface ClusterView {
  /** Increases whenever the picture changes. */
  readonly version: number;
  node(name: string): Node | undefined;
  /** The nodes of many names at once, in their order, and the names the picture does not know. */
  nodesNamed(names: readonly string[]): { nodes: Node[]; unknown: string[] };
  nodes(): readonly Node[];
  /** Pods bound to the node that still hold resources (not Succeeded/Failed). */
  podsOnNode(name: string): readonly Pod[];
  pods(): readonly Pod[];
  pool(namespace: string, name: string): AgentPool | undefined;
  pools(): readonly AgentPool[];
  agentClass(namespace: string, name: string): AgentClass | undefined;
  model(namespace: string, name: string): Model | undefined;
  models(): readonly Model[];
  /** Pods labelled for the pool (bound or not). */
  podsOfPool(namespace: string, name: string): readonly Pod[];
  /** An object of any kind the source holds, for walking owner references. */
  object(kind: string, namespace: string, name: string): OwnedObject | undefined;
  /**
   * The node's facts: those of the picture's node of that name, else (a node sent in full that the
   * picture does not know yet) worked out from `node` itself and the pods bound to it.
   */
  nodeFacts(node: Node): NodeFacts;
  /** Every node's facts by name, for plugins that aggregate over the cluster (zones, spreads). */
  allNodeFacts(): ReadonlyMap<string, NodeFacts>;
  /** Computes `compute(this)` once per version of the picture and per key. */
  memo<T>(key: string, compute: (view: ClusterView) => T): T;
  /**
   * The nodes whose pods differ between `earlier` and this picture, when this one was made from it
   * (through a few pictures at most) by pod changes alone; undefined when that is not known. Lets
   * per-node facts computed for `earlier` be carried over for every other node.
   */
  nodesWithChangedPodsSince(earlier: ClusterView): ReadonlySet<string> | undefined;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);
const nsName = (ns: string | undefined, name: string | undefined): string => `${ns ?? 'default'}/${name ?? ''}`;

export function isActivePod(pod: Pod): boolean {
  return !TERMINAL.has(pod.status?.phase ?? '');
}

const EMPTY: readonly Pod[] = Object.freeze([]);

/**
 * Each pod's `namespace/name`, made once per object: pods are keyed on every new picture, and
 * informer objects (replaced when they change, never edited) outlive many pictures. Made afresh each
 * time, the keys were a third of the extender's CPU under a real kube-scheduler binding pods as fast
 * as it could.
 */
const podKeys = new WeakMap<Pod, string>();
export function podKeyOf(pod: Pod): string {
  let key = podKeys.get(pod);
  if (key === undefined) podKeys.set(pod, (key = podKey(pod)));
  return key;
}

const boundNodeOf = (pod: Pod | undefined): string | undefined => {
  const node = pod?.spec?.nodeName;
  return node !== undefined && node !== '' && isActivePod(pod as Pod) ? node : undefined;
};

/** `list` with `old` replaced by `next`, or without it (next undefined), or with `next` added (old undefined). */
function swapped(list: readonly Pod[] | undefined, old: Pod | undefined, next: Pod | undefined): readonly Pod[] {
  const at = old === undefined || list === undefined ? -1 : list.indexOf(old);
  if (at < 0) return next === undefined ? (list ?? EMPTY) : [...(list ?? EMPTY), next];
  const copy = [...(list as readonly Pod[])];
  if (next === undefined) copy.splice(at, 1);
  else copy[at] = next;
  return copy;
}

/** Moves a pod (its old and new version) between the lists of a map keyed by where pods sit. */
function move(lists: Map<string, readonly Pod[]>, from: string | undefined, to: string | undefined, old: Pod | undefined, next: Pod | undefined): void {
  const put = (at: string, list: readonly Pod[]): void => {
    if (list.length === 0) lists.delete(at);
    else lists.set(at, list);
  };
  if (from !== undefined && from === to) return put(from, swapped(lists.get(from), old, next));
  if (from !== undefined) put(from, swapped(lists.get(from), old, undefined));
  if (to !== undefined) put(to, swapped(lists.get(to), undefined, next));
}

/**
 * A picture's pods: the active bound ones by node, pool members by namespace and pool. A picture
 * that differs from the one before by a few pods (one per pod event, many a second on a busy
 * cluster) is made from it: lists of untouched nodes and pools are the same arrays, so per-node
 * facts keyed on them are reused without comparing pods.
 */
class PodIndex {
  readonly byNode: ReadonlyMap<string, readonly Pod[]>;
  /**
   * namespace → pool → pods. Nested rather than keyed by `namespace/pool`: a key string made per pod
   * per picture was a real part of a picture's cost.
   */
  readonly byPool: ReadonlyMap<string, ReadonlyMap<string, readonly Pod[]>>;
  #byKey: ReadonlyMap<string, Pod> | undefined;
  #all: readonly Pod[] | undefined;

  private constructor(
    byNode: ReadonlyMap<string, readonly Pod[]>,
    byPool: ReadonlyMap<string, ReadonlyMap<string, readonly Pod[]>>,
    all?: readonly Pod[],
    byKey?: ReadonlyMap<string, Pod>,
  ) {
    this.byNode = byNode;
    this.byPool = byPool;
    this.#all = all;
    this.#byKey = byKey;
  }

  static of(pods: readonly Pod[]): PodIndex {
    const byNode = new Map<string, Pod[]>();
    const byPool = new Map<string, Map<string, Pod[]>>();
    for (const pod of pods) {
      const nodeName = boundNodeOf(pod);
      if (nodeName !== undefined) {
        let list = byNode.get(nodeName);
        if (list === undefined) byNode.set(nodeName, (list = []));
        list.push(pod);
      }
      const pool = pod.metadata.labels?.[Labels.agentPool];
      if (pool !== undefined) {
        const namespace = pod.metadata.namespace ?? 'default';
        let pools = byPool.get(namespace);
        if (pools === undefined) byPool.set(namespace, (pools = new Map()));
        let list = pools.get(pool);
        if (list === undefined) pools.set(pool, (list = []));
        list.push(pod);
      }
    }
    return new PodIndex(byNode, byPool, pods);
  }

  get all(): readonly Pod[] {
    return (this.#all ??= [...(this.#byKey as ReadonlyMap<string, Pod>).values()]);
  }

  /** By `namespace/name`, made when first needed: only pictures that others are made from need it. */
  #keyed(): ReadonlyMap<string, Pod> {
    return (this.#byKey ??= new Map(this.all.map((pod) => [podKeyOf(pod), pod])));
  }

  /** This index with `changes`; the names of the nodes whose pods they changed go into `touched`. */
  with(changes: PodChanges, touched: Set<string>): PodIndex {
    const byKey = new Map(this.#keyed());
    const byNode = new Map(this.byNode);
    const byPool = new Map(this.byPool);
    const poolsOf = (namespace: string): Map<string, readonly Pod[]> => {
      const pools = byPool.get(namespace);
      // Each namespace's map is copied once, on the first change in it.
      if (pools !== undefined && pools !== this.byPool.get(namespace)) return pools as Map<string, readonly Pod[]>;
      const copy = new Map(pools);
      byPool.set(namespace, copy);
      return copy;
    };
    for (const [key, next] of changes) {
      const old = byKey.get(key);
      if (old === next) continue;
      if (next === undefined) byKey.delete(key);
      else byKey.set(key, next);
      const from = boundNodeOf(old);
      const to = boundNodeOf(next);
      move(byNode, from, to, old, next);
      if (from !== undefined) touched.add(from);
      if (to !== undefined) touched.add(to);
      const oldPool = old?.metadata.labels?.[Labels.agentPool];
      const nextPool = next?.metadata.labels?.[Labels.agentPool];
      // Both versions share the key, so the namespace.
      if (oldPool !== undefined || nextPool !== undefined) move(poolsOf((next ?? old)?.metadata.namespace ?? 'default'), oldPool, nextPool, old, next);
    }
    return new PodIndex(byNode, byPool, undefined, byKey);
  }
}

/** How far past the last match a name is looked for in the order callers name the nodes. */
const LOOKAHEAD = 8;

/**
 * A picture's nodes by name. Most pictures differ from the one before by pods only (a new picture
 * per pod event), so consecutive pictures holding the same Node objects share one index rather than
 * each building a map of every node.
 */
class NodeIndex {
  readonly list: readonly Node[];
  readonly #byName: ReadonlyMap<string, Node>;
  /**
   * The nodes in the order callers name them, learnt as they do, and where each sits. kube-scheduler
   * names the same nodes in the same order call after call (a window of its node list that moves on
   * from pod to pod, or all of it), and the prioritize after a filter names a subsequence of them: a
   * name compared with the node just after the last match spares a hash lookup of a freshly parsed
   * string, the largest single cost of resolving thousands of names per call.
   */
  readonly #order: Node[] = [];
  readonly #at = new Map<Node, number>();

  constructor(nodes: readonly Node[]) {
    this.list = nodes;
    this.#byName = new Map(nodes.map((n) => [n.metadata.name, n]));
  }

  /** Whether `nodes` are this index's nodes, the same objects in the same order. */
  holds(nodes: readonly Node[]): boolean {
    if (nodes === this.list) return true;
    if (nodes.length !== this.list.length) return false;
    for (let i = 0; i < nodes.length; i++) if (nodes[i] !== this.list[i]) return false;
    return true;
  }

  get(name: string): Node | undefined {
    return this.#byName.get(name);
  }

  resolve(names: readonly string[]): { nodes: Node[]; unknown: string[] } {
    const order = this.#order;
    const nodes: Node[] = [];
    const unknown: string[] = [];
    let at = 0;
    for (const name of names) {
      let node: Node | undefined;
      for (let k = at, end = Math.min(order.length, at + LOOKAHEAD); k < end; k++) {
        if ((order[k] as Node).metadata.name === name) {
          node = order[k];
          at = k + 1;
          break;
        }
      }
      if (node === undefined) {
        node = this.#byName.get(name);
        if (node === undefined) {
          unknown.push(name);
          continue;
        }
        // Picks the order up again from where this node sits; a node never named before joins it.
        let seen = this.#at.get(node);
        if (seen === undefined) this.#at.set(node, (seen = order.push(node) - 1));
        at = seen + 1;
      }
      nodes.push(node);
    }
    return { nodes, unknown };
  }
}

/** How many pictures back `nodesWithChangedPodsSince` can answer for. */
const LINEAGE = 16;

/** One step from a picture (known by its token, so that no picture keeps another alive) to the next. */
interface Step {
  readonly from: object;
  readonly touched: ReadonlySet<string>;
}

/** An index of `nodes`: `kept` itself while it holds the same Node objects. */
const nodeIndexOf = (nodes: readonly Node[], kept: NodeIndex | undefined): NodeIndex => (kept?.holds(nodes) === true ? kept : new NodeIndex(nodes));

const byNsName = <T extends OwnedObject>(list: readonly T[]): ReadonlyMap<string, T> =>
  new Map(list.map((o) => [nsName(o.metadata.namespace, o.metadata.name), o]));

export class ClusterState implements ClusterView {
  readonly version: number;
  readonly #nodes: NodeIndex;
  readonly #pods: PodIndex;
  readonly #pools: ReadonlyMap<string, AgentPool>;
  readonly #classes: ReadonlyMap<string, AgentClass>;
  readonly #models: ReadonlyMap<string, Model>;
  readonly #others: ReadonlyMap<string, OwnedObject>;
  readonly #memo = new Map<string, unknown>();
  readonly #token = {};
  /** Shared by the pictures made one from another, so each starts from the facts of the last. */
  readonly #carry: NodeFactsCarry;
  #facts: ReadonlyMap<string, NodeFacts> | undefined;
  /** Facts of nodes the picture does not know, per Node object sent. */
  #strangers: WeakMap<Node, NodeFacts> | undefined;
  /** The steps by pod changes alone that led here, oldest first. */
  readonly #lineage: readonly Step[];

  /** `previous`: the picture this one follows, whose node index it keeps if the nodes are the same. */
  constructor(objects: ClusterObjects, version: number, previous?: ClusterState);
  /** The `previous` picture with `changes`; what they leave out is shared with it. */
  constructor(previous: ClusterState, version: number, changes: ClusterChanges);
  constructor(from: ClusterObjects | ClusterState, version: number, more?: ClusterState | ClusterChanges) {
    this.version = version;
    if (from instanceof ClusterState) {
      const changes = more as ClusterChanges;
      this.#nodes = changes.nodes === undefined ? from.#nodes : nodeIndexOf(changes.nodes, from.#nodes);
      const touched = new Set<string>();
      this.#pods = changes.pods === undefined ? from.#pods : from.#pods.with(changes.pods, touched);
      this.#lineage = this.#nodes === from.#nodes ? [...from.#lineage.slice(1 - LINEAGE), { from: from.#token, touched }] : [];
      this.#pools = changes.agentPools === undefined ? from.#pools : byNsName(changes.agentPools);
      this.#classes = changes.agentClasses === undefined ? from.#classes : byNsName(changes.agentClasses);
      this.#models = changes.models === undefined ? from.#models : byNsName(changes.models);
      this.#others = from.#others;
      this.#carry = from.#carry;
    } else {
      const previous = more as ClusterState | undefined;
      this.#carry = previous === undefined ? new NodeFactsCarry() : previous.#carry;
      this.#nodes = nodeIndexOf(from.nodes, previous === undefined ? undefined : previous.#nodes);
      this.#pods = PodIndex.of(from.pods);
      this.#lineage = [];
      this.#pools = byNsName(from.agentPools);
      this.#classes = byNsName(from.agentClasses);
      this.#models = byNsName(from.models);
      this.#others = new Map((from.others ?? []).map((o) => [`${o.kind ?? ''}/${nsName(o.metadata.namespace, o.metadata.name)}`, o]));
    }
  }

  /** This picture with `changes`, as version `version`. */
  next(version: number, changes: ClusterChanges): ClusterState {
    return new ClusterState(this, version, changes);
  }

  node(name: string): Node | undefined {
    return this.#nodes.get(name);
  }
  nodesNamed(names: readonly string[]): { nodes: Node[]; unknown: string[] } {
    return this.#nodes.resolve(names);
  }
  nodes(): readonly Node[] {
    return this.#nodes.list;
  }
  podsOnNode(name: string): readonly Pod[] {
    return this.#pods.byNode.get(name) ?? EMPTY;
  }
  pods(): readonly Pod[] {
    return this.#pods.all;
  }
  pool(namespace: string, name: string): AgentPool | undefined {
    return this.#pools.get(nsName(namespace, name));
  }
  pools(): readonly AgentPool[] {
    return [...this.#pools.values()];
  }
  agentClass(namespace: string, name: string): AgentClass | undefined {
    return this.#classes.get(nsName(namespace, name));
  }
  model(namespace: string, name: string): Model | undefined {
    return this.#models.get(nsName(namespace, name));
  }
  models(): readonly Model[] {
    return [...this.#models.values()];
  }
  podsOfPool(namespace: string, name: string): readonly Pod[] {
    return this.#pods.byPool.get(namespace)?.get(name) ?? EMPTY;
  }
  object(kind: string, namespace: string, name: string): OwnedObject | undefined {
    if (kind === 'AgentPool') return this.pool(namespace, name);
    return this.#others.get(`${kind}/${nsName(namespace, name)}`);
  }
  nodesWithChangedPodsSince(earlier: ClusterView): ReadonlySet<string> | undefined {
    if (!(earlier instanceof ClusterState)) return undefined;
    if (earlier === this) return new Set();
    const at = this.#lineage.findIndex((step) => step.from === earlier.#token);
    if (at < 0) return undefined;
    const nodes = new Set<string>();
    for (const step of this.#lineage.slice(at)) for (const name of step.touched) nodes.add(name);
    return nodes;
  }
  allNodeFacts(): ReadonlyMap<string, NodeFacts> {
    return (this.#facts ??= this.#carry.all(this));
  }
  nodeFacts(node: Node): NodeFacts {
    const known = this.allNodeFacts().get(node.metadata.name);
    if (known !== undefined) return known;
    this.#strangers ??= new WeakMap();
    let facts = this.#strangers.get(node);
    if (facts === undefined) this.#strangers.set(node, (facts = computeNodeFacts(node, this.podsOnNode(node.metadata.name))));
    return facts;
  }
  memo<T>(key: string, compute: (view: ClusterView) => T): T {
    const known = this.#memo.get(key);
    if (known !== undefined || this.#memo.has(key)) return known as T;
    const value = compute(this);
    this.#memo.set(key, value);
    return value;
  }
}
