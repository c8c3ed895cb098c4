/** What a decision reports: per metric, per plugin, per stage, and when the next scale may happen. */
import type { MetricKind } from './metric-kinds.ts';
import type { RecommendationReport } from './recommendation-chain.ts';
import type { CombinePolicy } from './autoscaler-config.ts';
import type { ProviderPassSummary } from './metric-collection.ts';

/** `no-ratio`: a fresh value whose usage ratio is no finite number (see MetricProposal). */
export type MetricStatus = 'ok' | 'no-ratio' | 'stale' | 'missing' | 'failed' | 'invalid';

export interface MetricReport {
  readonly type: string;
  readonly kind: MetricKind;
  /** As written in the pool ("500ms") and parsed (0.5; latencies in seconds). */
  readonly target: string;
  readonly targetValue: number | null;
  readonly value: number | null;
  readonly status: MetricStatus;
  /** `request`, a provider's name, or null. */
  readonly source: string | null;
  readonly reason?: string;
  /** HPA's usage ratio: additive total / (target × current), level value / target; null when not computable. */
  readonly ratio: number | null;
  /** The replicas this metric alone would want. */
  readonly replicas: number | null;
  readonly averagingWindow?: string;
  readonly samples?: number;
}

/** The metric has a value the decision can use (stale ones included). */
export const isKnown = (m: MetricReport): boolean => m.status === 'ok' || m.status === 'no-ratio' || m.status === 'stale';
/** The metric was read just now. */
export const isFresh = (m: MetricReport): boolean => m.status === 'ok' || m.status === 'no-ratio';

export const STAGES = ['raw', 'tolerance', 'min/max', 'stabilization', 'rate-limits', 'cooldown', 'capacity'] as const;
export type StageName = (typeof STAGES)[number];

export type StageReason =
  | 'Recommended'
  | 'MetricsUnavailable'
  | 'NoRecommendation'
  | 'WithinTolerance'
  | 'OutsideTolerance'
  | 'TooFewReplicas'
  | 'TooManyReplicas'
  | 'DesiredWithinRange'
  | 'ScaleUpStabilized'
  | 'ScaleDownStabilized'
  | 'ReadyForNewScale'
  | 'ScaleUpLimit'
  | 'ScaleDownLimit'
  | 'Cooldown'
  | 'CapacityAvailable'
  | 'CapacityShort'
  | 'CapacityLimited'
  | 'CapacityUnknown'
  | 'Skipped';

export interface StageReport {
  readonly stage: StageName;
  readonly input: number;
  readonly output: number;
  readonly reason: StageReason;
  readonly message: string;
}

export interface Decision {
  readonly pool: { readonly namespace: string; readonly name: string };
  /** The decision's time (the request's `now`, or the clock). */
  readonly time: string;
  readonly dryRun: boolean;
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  /**
   * The most replicas the pool can have now by its scheduler filters (current + how many more fit),
   * counted for scale-ups only and up to the number wanted; null when not checked or not known.
   */
  readonly placeableReplicas: number | null;
  /** The capacity stage's shortfall in words ("wants 8, 5 can be placed: …"); null when none was found. */
  readonly shortfall: string | null;
  /** The reason of the last stage that changed the count, else why the count holds. */
  readonly reason: StageReason;
  readonly message: string;
  readonly metrics: MetricReport[];
  readonly providers: ProviderPassSummary[];
  readonly recommendations: RecommendationReport[];
  readonly combine: { readonly policy: CombinePolicy; readonly chosen: string | null; readonly replicas: number | null; readonly message: string };
  readonly stages: StageReport[];
  /** Earliest time a scale in that direction is allowed, given the history (null: not possible). */
  readonly nextScaleUpAt: string | null;
  readonly nextScaleDownAt: string | null;
}
