/**
 * The per-metric replica maths of Kubernetes' HPA replica calculator, for the two kinds of pool
 * metric (see metric-kinds.ts). Proposals are untolerated; the tolerance band is a stage of its own.
 */
import type { MetricSpec } from '../api/neuronetes.ts';
import { metricKey, metricKind, type MetricKind } from './metric-kinds.ts';
import { parseMetricTarget } from './metric-target.ts';

/** HPA caps replica counts at int32. */
export const MAX_REPLICAS = 2_147_483_647;

export interface Tolerances {
  readonly scaleUp: number;
  readonly scaleDown: number;
}

/** HPA's default tolerance (`--horizontal-pod-autoscaler-tolerance`), both directions. */
export const DEFAULT_TOLERANCE = 0.1;

export function isWithinTolerance(ratio: number, t: Tolerances): boolean {
  return 1 - t.scaleDown <= ratio && ratio <= 1 + t.scaleUp;
}

export interface MetricProposal {
  /**
   * Usage over target, as HPA computes it for the tolerance check; null when it is no finite number
   * (an additive metric at 0 replicas divides by zero, a huge value over a tiny target overflows).
   */
  readonly ratio: number | null;
  /** What this metric alone asks for. */
  readonly replicas: number;
}

function capped(x: number): number {
  return Math.min(MAX_REPLICAS, Math.ceil(x));
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * `ready`: replicas that count for a level metric (HPA counts ready pods only); out-of-range values
 * fall back to `current`.
 */
export function proposeReplicas(kind: MetricKind, value: number, target: number, current: number, ready: number = current): MetricProposal {
  if (kind === 'additive') {
    // GetExternalPerPodMetricReplicas: usage / (target × statusReplicas), replicas = ceil(usage / target).
    // At 0 replicas HPA's ratio is ±Inf or NaN and it still takes ceil(usage / target): so do we.
    return { ratio: current === 0 ? null : finite(value / (target * current)), replicas: capped(value / target) };
  }
  // GetExternalMetricReplicas → getUsageRatioReplicaCount: from zero, ceil(ratio); else ceil(ratio × ready).
  const ratio = value / target;
  if (current === 0) return { ratio: finite(ratio), replicas: capped(ratio) };
  const counted = ready > 0 && ready <= current ? ready : current;
  return { ratio: finite(ratio), replicas: capped(ratio * counted) };
}

/** What the maths needs of the pool and the config; an AutoscalerContext is one. */
export interface ReplicaInputs {
  readonly currentReplicas: number;
  readonly readyReplicas: number;
  readonly metricKinds: ReadonlyMap<string, MetricKind>;
  readonly latencyMetrics: ReadonlySet<string>;
}

export interface MetricAsk {
  /** The metric key (`queue-depth`, whatever the spec's spelling). */
  readonly type: string;
  readonly kind: MetricKind;
  readonly targetValue: number;
  /** Undefined when the metric has no value. */
  readonly proposal: MetricProposal | undefined;
}

/**
 * HPA's answer for one pool metric: its target parsed and, given its value, what it alone asks
 * for. The one place the service's decision and the `multi-metric` plugin compute it. Throws
 * MetricTargetError for a target that does not parse.
 */
export function proposeForMetric(metric: Pick<MetricSpec, 'type' | 'target'>, value: number | undefined, inputs: ReplicaInputs): MetricAsk {
  const type = metricKey(metric.type);
  const kind = metricKind(type, inputs.metricKinds);
  const targetValue = parseMetricTarget(type, metric.target, inputs.latencyMetrics.has(type));
  const proposal = value === undefined ? undefined : proposeReplicas(kind, value, targetValue, inputs.currentReplicas, inputs.readyReplicas);
  return { type, kind, targetValue, proposal };
}
