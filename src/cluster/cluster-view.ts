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

export class ClusterState implements ClusterView {
  readonly version: number;
  readonly #nodes: ReadonlyMap<string, Node>;
  readonly #nodeList: readonly Node[];
  readonly #pods: readonly Pod[];
  readonly #podsByNode: ReadonlyMap<string, Pod[]>;
  readonly #podsByPool: ReadonlyMap<string, Pod[]>;
  readonly #pools: ReadonlyMap<string, AgentPool>;
  readonly #classes: ReadonlyMap<string, AgentClass>;
  readonly #models: ReadonlyMap<string, Model>;
  readonly #others: ReadonlyMap<string, OwnedObject>;
  readonly #memo = new Map<string, unknown>();

  constructor(objects: ClusterObjects, version: number) {
    this.version = version;
    this.#nodeList = objects.nodes;
    this.#nodes = new Map(objects.nodes.map((n) => [n.metadata.name, n]));
    this.#pods = objects.pods;
    const byNode = new Map<string, Pod[]>();
    const byPool = new Map<string, Pod[]>();
    for (const pod of objects.pods) {
      const nodeName = pod.spec?.nodeName;
      if (nodeName !== undefined && nodeName !== '' && isActivePod(pod)) {
        let list = byNode.get(nodeName);
        if (list === undefined) byNode.set(nodeName, (list = []));
        list.push(pod);
      }
      const pool = pod.metadata.labels?.[Labels.agentPool];
      if (pool !== undefined) {
        const key = nsName(pod.metadata.namespace, pool);
        let list = byPool.get(key);
        if (list === undefined) byPool.set(key, (list = []));
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
  nodes(): readonly Node[] {
    return this.#nodeList;
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
    return this.#podsByPool.get(nsName(namespace, name)) ?? EMPTY;
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

