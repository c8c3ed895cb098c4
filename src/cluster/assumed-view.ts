/**
 * A what-if picture: another picture with pods assumed bound to some of its nodes, as kube-scheduler
 * assumes a pod before its binding is seen. The capacity check places replicas one at a time in it;
 * it shares everything else with the picture it is made from (node facts are recomputed for the
 * nodes given pods only) and never touches that picture or its source's fact carry.
 */
import { Labels } from '../api/neuronetes.ts';
import type { Node, OwnedObject, Pod } from '../api/kubernetes.ts';
import type { AgentClass, AgentPool, Model } from '../api/neuronetes.ts';
import type { ClusterView } from './cluster-view.ts';
import { computeNodeFacts, type NodeFacts } from './node-facts.ts';

/** A node's assumed pods and its facts with them. */
interface Assumed {
  readonly name: string;
  readonly pods: readonly Pod[];
  readonly facts: NodeFacts;
}

export class AssumedView implements ClusterView {
  readonly #base: ClusterView;
  /**
   * The nodes given pods before the last one, shared by the pictures made one from another while
   * they fill one node (the capacity count fills node after node): a step copies nothing, and a
   * move to another node copies this map once.
   */
  readonly #settled: ReadonlyMap<string, Assumed>;
  readonly #last: Assumed | undefined;
  readonly #memo = new Map<string, unknown>();
  #all: ReadonlyMap<string, NodeFacts> | undefined;

  private constructor(base: ClusterView, settled: ReadonlyMap<string, Assumed>, last: Assumed | undefined) {
    this.#base = base;
    this.#settled = settled;
    this.#last = last;
  }

  /** `base` with nothing assumed yet. */
  static of(base: ClusterView): AssumedView {
    return new AssumedView(base, new Map(), undefined);
  }

  #assumed(name: string): Assumed | undefined {
    return this.#last?.name === name ? this.#last : this.#settled.get(name);
  }

  /** Every node with assumed pods, each once. */
  *#entries(): Generator<Assumed> {
    for (const entry of this.#settled.values()) if (entry.name !== this.#last?.name) yield entry;
    if (this.#last !== undefined) yield this.#last;
  }

  /** This picture with `pod` (which carries spec.nodeName) assumed on node `node`. */
  with(pod: Pod, node: Node): AssumedView {
    const name = node.metadata.name;
    const pods = [...(this.#assumed(name)?.pods ?? []), pod];
    const entry = { name, pods, facts: computeNodeFacts(node, [...this.#base.podsOnNode(name), ...pods]) };
    const last = this.#last;
    const settled = last === undefined || last.name === name ? this.#settled : new Map(this.#settled).set(last.name, last);
    return new AssumedView(this.#base, settled, entry);
  }

  /** How many pods are assumed on the node. */
  assumedOn(name: string): number {
    return this.#assumed(name)?.pods.length ?? 0;
  }

  get version(): number {
    return this.#base.version;
  }
  node(name: string): Node | undefined {
    return this.#base.node(name);
  }
  nodesNamed(names: readonly string[]): { nodes: Node[]; unknown: string[] } {
    return this.#base.nodesNamed(names);
  }
  nodes(): readonly Node[] {
    return this.#base.nodes();
  }
  podsOnNode(name: string): readonly Pod[] {
    const extra = this.#assumed(name);
    return extra === undefined ? this.#base.podsOnNode(name) : [...this.#base.podsOnNode(name), ...extra.pods];
  }
  pods(): readonly Pod[] {
    return this.#last === undefined ? this.#base.pods() : [...this.#base.pods(), ...[...this.#entries()].flatMap((e) => e.pods)];
  }
  pool(namespace: string, name: string): AgentPool | undefined {
    return this.#base.pool(namespace, name);
  }
  pools(): readonly AgentPool[] {
    return this.#base.pools();
  }
  agentClass(namespace: string, name: string): AgentClass | undefined {
    return this.#base.agentClass(namespace, name);
  }
  model(namespace: string, name: string): Model | undefined {
    return this.#base.model(namespace, name);
  }
  models(): readonly Model[] {
    return this.#base.models();
  }
  podsOfPool(namespace: string, name: string): readonly Pod[] {
    const own = this.#base.podsOfPool(namespace, name);
    const extra = [...this.#entries()]
      .flatMap((e) => e.pods)
      .filter((p) => (p.metadata.namespace ?? 'default') === namespace && p.metadata.labels?.[Labels.agentPool] === name);
    return extra.length === 0 ? own : [...own, ...extra];
  }
  object(kind: string, namespace: string, name: string): OwnedObject | undefined {
    return this.#base.object(kind, namespace, name);
  }
  nodeFacts(node: Node): NodeFacts {
    const assumed = this.#assumed(node.metadata.name);
    return assumed !== undefined && this.#base.node(node.metadata.name) === node ? assumed.facts : this.#base.nodeFacts(node);
  }
  allNodeFacts(): ReadonlyMap<string, NodeFacts> {
    if (this.#last === undefined) return this.#base.allNodeFacts();
    return (this.#all ??= new Map([...this.#base.allNodeFacts(), ...[...this.#entries()].map((e): [string, NodeFacts] => [e.name, e.facts])]));
  }
  /** Per what-if picture, as per picture: a plugin's memo may count pods, and this one has more. */
  memo<T>(key: string, compute: (view: ClusterView) => T): T {
    if (this.#memo.has(key)) return this.#memo.get(key) as T;
    const value = compute(this);
    this.#memo.set(key, value);
    return value;
  }
  nodesWithChangedPodsSince(earlier: ClusterView): ReadonlySet<string> | undefined {
    return earlier === this ? new Set() : undefined;
  }
}
