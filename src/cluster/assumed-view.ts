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

export class AssumedView implements ClusterView {
  readonly #base: ClusterView;
  /** Node name → the pods assumed on it. */
  readonly #assumed: ReadonlyMap<string, readonly Pod[]>;
  /** Facts of the nodes with assumed pods: those of the view this one was made from, plus the node changed since. */
  readonly #facts: Map<string, NodeFacts>;
  readonly #memo = new Map<string, unknown>();
  #all: ReadonlyMap<string, NodeFacts> | undefined;

  private constructor(base: ClusterView, assumed: ReadonlyMap<string, readonly Pod[]>, facts: Map<string, NodeFacts>) {
    this.#base = base;
    this.#assumed = assumed;
    this.#facts = facts;
  }

  /** `base` with nothing assumed yet. */
  static of(base: ClusterView): AssumedView {
    return new AssumedView(base, new Map(), new Map());
  }

  /** This picture with `pod` (which carries spec.nodeName) assumed on node `node`. */
  with(pod: Pod, node: Node): AssumedView {
    const name = node.metadata.name;
    const assumed = new Map(this.#assumed);
    const onNode = [...(assumed.get(name) ?? []), pod];
    assumed.set(name, onNode);
    const facts = new Map(this.#facts);
    facts.set(name, computeNodeFacts(node, [...this.#base.podsOnNode(name), ...onNode]));
    return new AssumedView(this.#base, assumed, facts);
  }

  /** How many pods are assumed on the node. */
  assumedOn(name: string): number {
    return this.#assumed.get(name)?.length ?? 0;
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
    const extra = this.#assumed.get(name);
    return extra === undefined ? this.#base.podsOnNode(name) : [...this.#base.podsOnNode(name), ...extra];
  }
  pods(): readonly Pod[] {
    return this.#assumed.size === 0 ? this.#base.pods() : [...this.#base.pods(), ...[...this.#assumed.values()].flat()];
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
  podsOfPool(namespace: string, name: string): readonly Pod[] {
    const own = this.#base.podsOfPool(namespace, name);
    const extra = [...this.#assumed.values()]
      .flat()
      .filter((p) => (p.metadata.namespace ?? 'default') === namespace && p.metadata.labels?.[Labels.agentPool] === name);
    return extra.length === 0 ? own : [...own, ...extra];
  }
  object(kind: string, namespace: string, name: string): OwnedObject | undefined {
    return this.#base.object(kind, namespace, name);
  }
  nodeFacts(node: Node): NodeFacts {
    const facts = this.#facts.get(node.metadata.name);
    return facts !== undefined && this.#base.node(node.metadata.name) === node ? facts : this.#base.nodeFacts(node);
  }
  allNodeFacts(): ReadonlyMap<string, NodeFacts> {
    if (this.#facts.size === 0) return this.#base.allNodeFacts();
    return (this.#all ??= new Map([...this.#base.allNodeFacts(), ...this.#facts]));
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
