/**
 * Which AgentPool a pod belongs to: the `neuronetes.io/agent-pool` label (same namespace), else an
 * owner-reference chain that reaches an AgentPool.
 */
import type { OwnerReference, Pod } from '../api/kubernetes.ts';
import { GROUP, Labels, type AgentPool } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';

export type PoolResolution =
  | { readonly status: 'none' }
  | { readonly status: 'found'; readonly pool: AgentPool; readonly ref: string }
  | { readonly status: 'unknown'; readonly ref: string };

const MAX_OWNER_DEPTH = 5;

function controllerOf(refs: readonly OwnerReference[] | undefined): OwnerReference | undefined {
  return refs?.find((r) => r.controller === true) ?? refs?.[0];
}

function isAgentPoolRef(ref: OwnerReference): boolean {
  return ref.kind === 'AgentPool' && ref.apiVersion.split('/')[0] === GROUP;
}

export function resolvePool(pod: Pod, cluster: ClusterView): PoolResolution {
  const namespace = pod.metadata.namespace ?? 'default';
  const byLabel = pod.metadata.labels?.[Labels.agentPool];
  let poolName: string | undefined = byLabel;
  if (poolName === undefined) {
    let ref = controllerOf(pod.metadata.ownerReferences);
    for (let depth = 0; ref !== undefined && depth < MAX_OWNER_DEPTH; depth++) {
      if (isAgentPoolRef(ref)) {
        poolName = ref.name;
        break;
      }
      ref = controllerOf(cluster.object(ref.kind, namespace, ref.name)?.metadata.ownerReferences);
    }
  }
  if (poolName === undefined) return { status: 'none' };
  const ref = `${namespace}/${poolName}`;
  const pool = cluster.pool(namespace, poolName);
  return pool === undefined ? { status: 'unknown', ref } : { status: 'found', pool, ref };
}

/**
 * Says when to log "pod names an unknown AgentPool": once per pool per `intervalMs`, not once per
 * call (kube-scheduler retries a pending pod many times a minute, and filter, prioritize and preempt
 * each resolve it). It remembers at most `maxPools` pools, forgetting the one noticed longest ago, so
 * a flood of distinct names cannot grow it; a forgotten pool is merely noticed again.
 */
export class UnknownPoolNotices {
  readonly #seen = new Map<string, { at: number; suppressed: number }>();
  readonly #intervalMs: number;
  readonly #maxPools: number;
  readonly #clock: () => number;

  constructor(options: { intervalMs?: number; maxPools?: number; clock?: () => number } = {}) {
    this.#intervalMs = options.intervalMs ?? 5 * 60_000;
    this.#maxPools = options.maxPools ?? 1024;
    this.#clock = options.clock ?? Date.now;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Pools remembered now (at most `maxPools`). */
  get size(): number {
    return this.#seen.size;
  }

  /** For a call about `ref`: how many calls went unlogged since its last notice, or undefined to stay quiet. */
  take(ref: string): number | undefined {
    const now = this.#clock();
    const seen = this.#seen.get(ref);
    if (seen !== undefined && now - seen.at < this.#intervalMs) {
      seen.suppressed++;
      return undefined;
    }
    // Re-inserted, so the map's first key is always the pool noticed longest ago.
    this.#seen.delete(ref);
    this.#seen.set(ref, { at: now, suppressed: 0 });
    if (this.#seen.size > this.#maxPools) this.#seen.delete(this.#seen.keys().next().value as string);
    return seen?.suppressed ?? 0;
  }
}
