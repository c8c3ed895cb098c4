/**
 * How each pool metric turns into replicas. Additive metrics are pool totals, so the pool needs
 * `ceil(total / target)` replicas (HPA's External metric with an AverageValue target). Level metrics
 * (a latency, a context length) do not add up across replicas, so the pool needs
 * `ceil(replicas × value / target)` (HPA's External metric with a Value target).
 */
export type MetricKind = 'additive' | 'level';

const BUILTIN_KINDS: Readonly<Record<string, MetricKind>> = {
  'tokens-in-queue': 'additive',
  'queue-depth': 'additive',
  'concurrent-sessions': 'additive',
  'tokens-per-second': 'additive',
  'tool-call-rate': 'additive',
  'ttft-p95': 'level',
  'context-length': 'level',
};

/** Metrics whose targets are durations even where a quantity would also parse ("5m" is five minutes). */
export const DEFAULT_LATENCY_METRICS: readonly string[] = ['ttft-p95'];

/** AgentPool specs say `queue-depth`, Prometheus says `queue_depth`: both name one metric. */
export function metricKey(type: string): string {
  return type.trim().toLowerCase().replaceAll('_', '-');
}

export function snakeName(type: string): string {
  return metricKey(type).replaceAll('-', '_');
}

/** Custom metrics are additive unless the config says otherwise (`autoscaler.metricKinds`). */
export function metricKind(type: string, custom: ReadonlyMap<string, MetricKind>): MetricKind {
  const key = metricKey(type);
  return custom.get(key) ?? BUILTIN_KINDS[key] ?? 'additive';
}
