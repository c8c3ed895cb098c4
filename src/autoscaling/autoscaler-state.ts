/**
 * What the autoscaler remembers per pool between decisions: recommendations (for stabilization),
 * real scale events (for rate limits and cooldown), the replicas it last saw, and metric samples
 * (for averaging windows). A store loads and saves it per pool; the in-memory store is the default,
 * and a cluster source that can write AgentPool status persists it in `status.autoscalerState`.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { AgentPool } from '../api/neuronetes.ts';
import type { Logger } from 'pino';
import type { ClusterSource } from '../cluster/cluster-source.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';

/** Epoch ms a Date can hold: a time outside it would fail every reply that prints it. */
const Time = Type.Number({ minimum: -8.64e15, maximum: 8.64e15 });
const Sample = Type.Object({ time: Time, value: Type.Number() });

export const PoolAutoscalerState = Type.Object({
  recommendations: Type.Array(Type.Object({ time: Time, replicas: Type.Integer({ minimum: 0 }) })),
  scaleEvents: Type.Array(Type.Object({ time: Time, change: Type.Integer() })),
  lastObservedReplicas: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  /** The last recorded decision: a change to its desiredReplicas is a scale it caused (optional: older states lack it). */
  lastDecision: Type.Optional(Type.Object({ time: Time, currentReplicas: Type.Integer({ minimum: 0 }), desiredReplicas: Type.Integer({ minimum: 0 }) })),
  samples: Type.Record(Type.String(), Type.Array(Sample)),
});
export type PoolAutoscalerState = Static<typeof PoolAutoscalerState>;
export type MetricSample = Static<typeof Sample>;

export function emptyState(): PoolAutoscalerState {
  return { recommendations: [], scaleEvents: [], lastObservedReplicas: null, samples: {} };
}

const checkState = Compile(PoolAutoscalerState);

export function encodeState(state: PoolAutoscalerState): string {
  return JSON.stringify(state);
}

/** Undefined for anything that is not a state this version wrote (a hand-edited annotation, say). */
export function decodeState(text: string | undefined): PoolAutoscalerState | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return checkState.Check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface PoolRef {
  readonly namespace: string;
  readonly name: string;
}

export interface AutoscalerStateStore {
  /** Undefined when the pool has never been seen (or its state was lost). */
  load(pool: PoolRef): Promise<PoolAutoscalerState | undefined>;
  save(pool: PoolRef, state: PoolAutoscalerState): Promise<void>;
}

const keyOf = (p: PoolRef): string => `${p.namespace}/${p.name}`;

export class InMemoryStateStore implements AutoscalerStateStore {
  readonly #states = new Map<string, string>();

  async load(pool: PoolRef): Promise<PoolAutoscalerState | undefined> {
    return decodeState(this.#states.get(keyOf(pool)));
  }

  async save(pool: PoolRef, state: PoolAutoscalerState): Promise<void> {
    this.#states.set(keyOf(pool), encodeState(state));
  }
}

/** Caps that keep a persisted state a few KB whatever the traffic (each entry is ~35 bytes of JSON). */
export const STATE_LIMITS = { recommendations: 128, scaleEvents: 64, samplesPerMetric: 64 } as const;

/**
 * Drops what can no longer change a decision, then caps what is left. A recommendation matters to
 * stabilization only while it can still be the highest of a scale-down window or the lowest of a
 * scale-up window; an older one with a later one at least as high (or as low) never will be, for any
 * window ending now or later. So this thinning is exact, and what it keeps is at most two strictly
 * monotone runs (bounded by the replica range); the caps, newest kept, only bite on pathological input.
 */
export function compactState(state: PoolAutoscalerState): PoolAutoscalerState {
  const recs = state.recommendations;
  const keep = new Array<boolean>(recs.length).fill(false);
  let highestLater = -Infinity;
  let lowestLater = Infinity;
  for (let i = recs.length - 1; i >= 0; i--) {
    const r = recs[i] as PoolAutoscalerState['recommendations'][number];
    if (r.replicas > highestLater || r.replicas < lowestLater) keep[i] = true;
    highestLater = Math.max(highestLater, r.replicas);
    lowestLater = Math.min(lowestLater, r.replicas);
  }
  const samples: PoolAutoscalerState['samples'] = {};
  for (const [metric, list] of Object.entries(state.samples)) samples[metric] = list.slice(-STATE_LIMITS.samplesPerMetric);
  return {
    recommendations: recs.filter((_, i) => keep[i]).slice(-STATE_LIMITS.recommendations),
    scaleEvents: state.scaleEvents.slice(-STATE_LIMITS.scaleEvents),
    lastObservedReplicas: state.lastObservedReplicas,
    ...(state.lastDecision !== undefined ? { lastDecision: state.lastDecision } : {}),
    samples,
  };
}

export interface ClusterStateStoreOptions {
  readonly cluster: () => ClusterView;
  /** Writes the encoded state where it survives a restart (the pool's `status.autoscalerState`). */
  readonly persist?: (pool: AgentPool, encoded: string) => Promise<void>;
  /** Only the leader persists; absent means this replica always does. */
  readonly isLeader?: () => boolean;
}

/**
 * Memory in front of what the cluster holds in the pool's `status.autoscalerState`: after a restart
 * the state comes back from the cluster, so stabilization and rate limits resume where they were.
 *
 * With several replicas the leader's persisted state is the truth. The leader reads its own memory
 * (newer than its informer's copy of its last write); a follower reads the leader's state and keeps
 * its own only for pools the leader has not written; a replica that becomes leader forgets its
 * memory, because another leader wrote since. Writes for one pool are serialized by the caller
 * (AutoscalerService's pool lock) and only the leader writes, so no write overtakes a newer one.
 */
export class ClusterStateStore implements AutoscalerStateStore {
  #memory = new InMemoryStateStore();
  #leading = false;
  readonly #o: ClusterStateStoreOptions;

  constructor(options: ClusterStateStoreOptions) {
    this.#o = options;
  }

  async load(pool: PoolRef): Promise<PoolAutoscalerState | undefined> {
    const persisted = (): PoolAutoscalerState | undefined => decodeState(this.#o.cluster().pool(pool.namespace, pool.name)?.status?.autoscalerState);
    if (this.#o.persist === undefined) return (await this.#memory.load(pool)) ?? persisted();
    return this.#leadingNow() ? ((await this.#memory.load(pool)) ?? persisted()) : (persisted() ?? (await this.#memory.load(pool)));
  }

  async save(pool: PoolRef, state: PoolAutoscalerState): Promise<void> {
    const compact = compactState(state);
    const leading = this.#leadingNow();
    await this.#memory.save(pool, compact);
    const object = this.#o.cluster().pool(pool.namespace, pool.name);
    if (this.#o.persist === undefined || object === undefined || !leading) return;
    await this.#o.persist(object, encodeState(compact));
  }

  /** Whether this replica leads; on becoming leader, memory is dropped (see the class comment). */
  #leadingNow(): boolean {
    const leading = this.#o.isLeader?.() ?? true;
    if (leading && !this.#leading) this.#memory = new InMemoryStateStore();
    this.#leading = leading;
    return leading;
  }
}

/**
 * The store a cluster source calls for: persisted in AgentPool status where the source can write it
 * (Kubernetes), by the leader only. A failed write is logged, not thrown: the decision stands, and
 * the next one writes the whole state again.
 */
export function clusterStateStore(source: ClusterSource, log: Logger): ClusterStateStore {
  const cluster = (): ClusterView => source.view();
  if (source.patchPoolStatus === undefined) return new ClusterStateStore({ cluster });
  const patch = source.patchPoolStatus.bind(source);
  return new ClusterStateStore({
    cluster,
    isLeader: () => source.isLeader?.() ?? true,
    persist: async (pool, encoded) => {
      const namespace = pool.metadata.namespace ?? 'default';
      try {
        await patch(namespace, pool.metadata.name, { autoscalerState: encoded });
      } catch (e: unknown) {
        log.warn({ pool: `${namespace}/${pool.metadata.name}`, err: (e as Error).message }, 'could not persist the autoscaler state');
      }
    },
  });
}
