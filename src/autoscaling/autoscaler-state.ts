/**
 * What the autoscaler remembers per pool between decisions: recommendations (for stabilization),
 * real scale events (for rate limits and cooldown), the replicas it last saw, and metric samples
 * (for averaging windows). A store loads and saves it per pool; the in-memory store is the default,
 * and a cluster source can persist it (e.g. in an AgentPool annotation) through `persist`.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { AgentPool } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';

const Sample = Type.Object({ time: Type.Number(), value: Type.Number() });

export const PoolAutoscalerState = Type.Object({
  recommendations: Type.Array(Type.Object({ time: Type.Number(), replicas: Type.Integer({ minimum: 0 }) })),
  scaleEvents: Type.Array(Type.Object({ time: Type.Number(), change: Type.Integer() })),
  lastObservedReplicas: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  samples: Type.Record(Type.String(), Type.Array(Sample)),
});
export type PoolAutoscalerState = Static<typeof PoolAutoscalerState>;
export type MetricSample = Static<typeof Sample>;

export function emptyState(): PoolAutoscalerState {
  return { recommendations: [], scaleEvents: [], lastObservedReplicas: null, samples: {} };
}

/** Where a Kubernetes source keeps the state: an annotation on the AgentPool. */
export const STATE_ANNOTATION = 'neuronetes.io/autoscaler-state';

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

export interface ClusterStateStoreOptions {
  readonly cluster: () => ClusterView;
  /** Writes the encoded state where it survives a restart; the Kubernetes source patches the annotation. */
  readonly persist?: (pool: AgentPool, encoded: string) => Promise<void>;
}

/**
 * Memory first, then what the cluster source holds in the pool's annotation: after a restart the
 * state comes back from the cluster, so stabilization and rate limits resume where they were.
 */
export class ClusterStateStore implements AutoscalerStateStore {
  readonly #memory = new InMemoryStateStore();
  readonly #o: ClusterStateStoreOptions;

  constructor(options: ClusterStateStoreOptions) {
    this.#o = options;
  }

  async load(pool: PoolRef): Promise<PoolAutoscalerState | undefined> {
    return (await this.#memory.load(pool)) ?? decodeState(this.#o.cluster().pool(pool.namespace, pool.name)?.metadata.annotations?.[STATE_ANNOTATION]);
  }

  async save(pool: PoolRef, state: PoolAutoscalerState): Promise<void> {
    await this.#memory.save(pool, state);
    const object = this.#o.cluster().pool(pool.namespace, pool.name);
    if (this.#o.persist !== undefined && object !== undefined) await this.#o.persist(object, encodeState(state));
  }
}
