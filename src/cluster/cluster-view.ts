/**
 * An immutable, indexed picture of the cluster as one source knows it at one moment. Plugins read it
 * on the hot path; `memo` lets them precompute per-node facts once per picture instead of per call.
 */
import type { Node, OwnedObject, Pod } from '../api/kubernetes.ts';
import { Labels, type AgentClass, type AgentPool, type Model } from '../api/neuronetes.ts';

export interface ClusterObjects {
  nodes: readonly Node[];
  pods: readonly Pod[];
  agentPools: readonly AgentPool[];
  agentClasses: readonly AgentClass[];
  models: readonly Model[];
  /** Anything else that may own a pod (ReplicaSet, StatefulSet, Deployment…). */
  others?: readonly OwnedObject[];
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
  /** Pods labelled for the pool (bound or not). */
  podsOfPool(namespace: string, name: string): readonly Pod[];
  /** An object of any kind the source holds, for walking owner references. */
  object(kind: string, namespace: string, name: string): OwnedObject | undefined;
  /** Computes `compute(this)` once per version of the picture and per key. */
  memo<T>(key: string, compute: (view: ClusterView) => T): T;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);
const nsName = (ns: string | undefined, name: string | undefined): string => `${ns ?? 'default'}/${name ?? ''}`;

export function isActivePod(pod: Pod): boolean {
  return !TERMINAL.has(pod.status?.phase ?? '');
}

const EMPTY: readonly Pod[] = Object.freeze([]);

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

export class ClusterState implements ClusterView {
  readonly version: number;
  readonly #nodes: NodeIndex;
  readonly #pods: readonly Pod[];
  readonly #podsByNode: ReadonlyMap<string, Pod[]>;
  /**
   * namespace → pool → pods. Nested rather than keyed by `namespace/pool`: a picture is built per
   * burst of pod events, and a key string made per pod per picture was a real part of that cost.
   */
  readonly #podsByPool: ReadonlyMap<string, ReadonlyMap<string, Pod[]>>;
  readonly #pools: ReadonlyMap<string, AgentPool>;
  readonly #classes: ReadonlyMap<string, AgentClass>;
  readonly #models: ReadonlyMap<string, Model>;
  readonly #others: ReadonlyMap<string, OwnedObject>;
  readonly #memo = new Map<string, unknown>();

  /** `previous`: the picture this one follows, whose node index it keeps if the nodes are the same. */
  constructor(objects: ClusterObjects, version: number, previous?: ClusterState) {
    this.version = version;
    const kept = previous === undefined ? undefined : previous.#nodes;
    this.#nodes = kept?.holds(objects.nodes) === true ? kept : new NodeIndex(objects.nodes);
    this.#pods = objects.pods;
    const byNode = new Map<string, Pod[]>();
    const byPool = new Map<string, Map<string, Pod[]>>();
    for (const pod of objects.pods) {
      const nodeName = pod.spec?.nodeName;
      if (nodeName !== undefined && nodeName !== '' && isActivePod(pod)) {
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
    this.#podsByNode = byNode;
    this.#podsByPool = byPool;
    this.#pools = new Map(objects.agentPools.map((p) => [nsName(p.metadata.namespace, p.metadata.name), p]));
    this.#classes = new Map(objects.agentClasses.map((c) => [nsName(c.metadata.namespace, c.metadata.name), c]));
    this.#models = new Map(objects.models.map((m) => [nsName(m.metadata.namespace, m.metadata.name), m]));
    this.#others = new Map((objects.others ?? []).map((o) => [`${o.kind ?? ''}/${nsName(o.metadata.namespace, o.metadata.name)}`, o]));
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
    return this.#podsByNode.get(name) ?? EMPTY;
  }
  pods(): readonly Pod[] {
    return this.#pods;
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
  podsOfPool(namespace: string, name: string): readonly Pod[] {
    return this.#podsByPool.get(namespace)?.get(name) ?? EMPTY;
  }
  object(kind: string, namespace: string, name: string): OwnedObject | undefined {
    if (kind === 'AgentPool') return this.pool(namespace, name);
    return this.#others.get(`${kind}/${nsName(namespace, name)}`);
  }
  memo<T>(key: string, compute: (view: ClusterView) => T): T {
    const known = this.#memo.get(key);
    if (known !== undefined || this.#memo.has(key)) return known as T;
    const value = compute(this);
    this.#memo.set(key, value);
    return value;
  }
}

