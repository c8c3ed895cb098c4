/** The `autoscaler:` block of the service config: chain combine policy, defaults, custom metrics. */
import { Type, type Static } from 'typebox';
import { DURATION_PATTERN } from '../api/neuronetes.ts';
import { parseDuration } from '../util/duration.ts';
import { DEFAULT_LATENCY_METRICS, metricKey, type MetricKind } from './metric-kinds.ts';
import { DEFAULT_TOLERANCE } from './replica-calculator.ts';
import type { BehaviorDefaults, SelectPolicy } from './scaling-rules.ts';

const Direction = Type.Object(
  {
    tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    selectPolicy: Type.Optional(Type.Enum(['Max', 'Min', 'Disabled'])),
  },
  { additionalProperties: false },
);

export const AutoscalerSettings = Type.Object(
  {
    /** How the autoscaler chain's recommendations become one: max (safest), min, or first (highest priority). */
    combinePolicy: Type.Optional(Type.Enum(['max', 'min', 'first'])),
    /** Time one decision may take, metrics fetching and plugins included. */
    requestBudget: Type.Optional(Type.String({ pattern: DURATION_PATTERN })),
    /** Defaults for pools whose behavior does not say. */
    scaleUp: Type.Optional(Direction),
    scaleDown: Type.Optional(Direction),
    /** Kind of custom metric types (built-in types have theirs). */
    metricKinds: Type.Optional(Type.Record(Type.String(), Type.Enum(['additive', 'level']))),
    /** Metrics whose targets read as durations ("5m" = 300 s); default: ttft-p95. */
    latencyMetrics: Type.Optional(Type.Array(Type.String())),
    traceSize: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
export type AutoscalerSettings = Static<typeof AutoscalerSettings>;

export type CombinePolicy = 'max' | 'min' | 'first';

export interface AutoscalerConfig {
  readonly combinePolicy: CombinePolicy;
  readonly requestBudgetMs: number;
  readonly behavior: BehaviorDefaults;
  readonly metricKinds: ReadonlyMap<string, MetricKind>;
  readonly latencyMetrics: ReadonlySet<string>;
  readonly traceSize: number;
}

export function resolveAutoscalerConfig(s: AutoscalerSettings | undefined): AutoscalerConfig {
  return {
    combinePolicy: s?.combinePolicy ?? 'max',
    requestBudgetMs: parseDuration(s?.requestBudget ?? '2s'),
    behavior: {
      tolerance: { scaleUp: s?.scaleUp?.tolerance ?? DEFAULT_TOLERANCE, scaleDown: s?.scaleDown?.tolerance ?? DEFAULT_TOLERANCE },
      selectPolicy: { scaleUp: (s?.scaleUp?.selectPolicy ?? 'Max') as SelectPolicy, scaleDown: (s?.scaleDown?.selectPolicy ?? 'Max') as SelectPolicy },
    },
    metricKinds: new Map(Object.entries(s?.metricKinds ?? {}).map(([k, v]) => [metricKey(k), v as MetricKind])),
    latencyMetrics: new Set((s?.latencyMetrics ?? DEFAULT_LATENCY_METRICS).map(metricKey)),
    traceSize: s?.traceSize ?? 100,
  };
}
