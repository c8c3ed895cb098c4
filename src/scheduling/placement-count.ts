/**
 * How many more replicas of a pool the cluster can place now, by the pool's own filter chain (the
 * enforcing scheduler plugins the extender runs): one pass over every node with a representative pod
 * of the pool, then, node by node, replicas assumed on the node one at a time (in a what-if picture)
 * and the node filtered again, until it says no or enough have been placed. Bounded by a budget; a
 * plugin that fails or times out makes the count unknown rather than wrong.
 */
import { GPU_RESOURCE, type Node, type Pod } from '../api/kubernetes.ts';
import { Labels, type AgentPool } from '../api/neuronetes.ts';
import { AssumedView } from '../cluster/assumed-view.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import { MIG_RESOURCE_PREFIX } from '../cluster/node-facts.ts';
import { PluginFailure, type ChainRuntime, type RequestBudget } from '../plugins/plugin-pass.ts';
import type { ActivePlugin } from '../plugins/plugin-set.ts';
import { poolPods } from '../pools/pool-pods.ts';
import { plural } from '../util/plural.ts';
import { runFilterChain, type FilterOutcome, type PluginPassSummary, type Rejection } from './filter-chain.ts';

/** One reason nodes could take no (more) replicas, and on how many nodes it was the last word. */
export interface ShortReason {
  readonly plugin: string;
  readonly reason: string;
  /** No replica would ever fit there (wrong hardware, labels, price); otherwise what is in use ran out. */
  readonly unresolvable: boolean;
  readonly nodes: number;
}

export type PlacementCount =
  | {
      readonly status: 'counted';
      /** Replicas that fit, at most `wanted + pending`. */
      readonly fit: number;
      /** The pool's pods that exist but are not bound yet: they take room first. */
      readonly pending: number;
      /** Why the nodes that were asked took no more, most nodes first; empty when all fit. */
      readonly reasons: readonly ShortReason[];
    }
  | { readonly status: 'unknown'; readonly message: string };

/** The requests one replica of the pool makes: a slice of its migProfile, else its whole GPUs. */
function replicaRequests(pool: AgentPool): Record<string, string> {
  if (pool.spec.migProfile !== undefined) return { [`${MIG_RESOURCE_PREFIX}${pool.spec.migProfile.toLowerCase()}`]: '1' };
  const gpus = pool.spec.gpuRequirements?.count ?? 0;
  return gpus > 0 ? { [GPU_RESOURCE]: String(gpus) } : {};
}

/** A pod as the pool's replicas look to the extender: labelled with the pool, asking for what the pool needs. */
function representativePod(pool: AgentPool): Pod {
  const namespace = pool.metadata.namespace ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${pool.metadata.name}-capacity-check`, namespace, labels: { [Labels.agentPool]: pool.metadata.name } },
    spec: { containers: [{ name: 'agent', resources: { requests: replicaRequests(pool) } }] },
    status: { phase: 'Pending' },
  };
}

/** The representative pod as the n-th replica assumed bound to `node`. */
function assumedReplica(pod: Pod, node: Node, n: number): Pod {
  return {
    ...pod,
    metadata: { ...pod.metadata, name: `${pod.metadata.name ?? ''}-${n}` },
    spec: { ...pod.spec, nodeName: node.metadata.name },
    status: { phase: 'Running' },
  };
}

/** The first pass of an enforcing plugin that failed or timed out, as a sentence. */
function failureOf(passes: readonly PluginPassSummary[]): string | undefined {
  const bad = passes.find((p) => p.mode === 'enforce' && (p.errors > 0 || p.timeouts > 0));
  return bad === undefined
    ? undefined
    : `scheduler plugin ${bad.plugin} ${bad.timeouts > 0 ? 'timed out' : 'failed'}${bad.failure !== undefined ? ` (${bad.failure})` : ''}`;
}

class ReasonTally {
  readonly #byWire = new Map<string, { plugin: string; reason: string; unresolvable: boolean; nodes: number }>();

  add(r: Rejection, nodes: number): void {
    const seen = this.#byWire.get(r.wire);
    if (seen !== undefined) seen.nodes += nodes;
    else this.#byWire.set(r.wire, { plugin: r.plugin, reason: r.reason, unresolvable: r.unresolvable, nodes });
  }

  /** What ran out first (the shortfall proper), then the nodes that never fit; each by how many nodes say it. */
  sorted(): ShortReason[] {
    return [...this.#byWire.values()].sort((a, b) => Number(a.unresolvable) - Number(b.unresolvable) || b.nodes - a.nodes);
  }
}

export interface PlacementQuestion {
  readonly pool: AgentPool;
  /** Replicas wanted beyond the current ones. */
  readonly more: number;
  readonly view: ClusterView;
}

/**
 * Counts up to `more` replicas plus the pool's pending pods. `plugins`: the scheduler plugins in
 * force (shadow ones are left out: they never narrow placement).
 */
export async function countPlaceable(
  runtime: ChainRuntime,
  plugins: readonly ActivePlugin<'scheduler'>[],
  q: PlacementQuestion,
  budget: RequestBudget,
): Promise<PlacementCount> {
  const unknown = (message: string): PlacementCount => ({ status: 'unknown', message });
  const enforcing = plugins.filter((p) => p.settings.mode === 'enforce');
  const pod = representativePod(q.pool);
  // Pods of the pool that exist but hold no node yet (bound ones are in the node facts already).
  const pending = poolPods(q.view, q.pool).pending.length;
  const wanted = q.more + pending;
  const tally = new ReasonTally();
  const filter = async (view: ClusterView, nodes: readonly Node[]): Promise<FilterOutcome | string> => {
    try {
      const outcome = await runFilterChain(runtime, enforcing, { pod, pool: q.pool, cluster: view }, nodes, budget, 'capacity');
      return failureOf(outcome.passes) ?? outcome;
    } catch (e: unknown) {
      if (e instanceof PluginFailure) return e.message;
      throw e;
    }
  };

  const first = await filter(q.view, q.view.nodes());
  if (typeof first === 'string') return unknown(first);
  for (const r of first.rejections) tally.add(r, r.count);
  let view = AssumedView.of(q.view);
  let fit = 0;
  let nodesChecked = 0;
  for (const node of first.kept) {
    if (fit >= wanted) break;
    nodesChecked++;
    for (;;) {
      view = view.with(assumedReplica(pod, node, fit), node);
      if (++fit >= wanted) break;
      if (budget.remainingMs <= 0)
        return unknown(`the capacity check ran out of its time budget after placing ${fit} replicas on ${plural(nodesChecked, 'node')}`);
      const again = await filter(view, [node]);
      if (typeof again === 'string') return unknown(again);
      if (again.kept.length === 0) {
        const rejection = again.rejections[again.rejectedAs[0] as number];
        if (rejection !== undefined) tally.add(rejection, 1);
        break;
      }
    }
  }
  return { status: 'counted', fit, pending, reasons: fit >= wanted ? [] : tally.sorted() };
}
