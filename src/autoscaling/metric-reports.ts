/**
 * Per pool metric, what a decision reports: its reading averaged over its window, HPA's proposal for
 * it (proposeForMetric, shared with the `multi-metric` plugin), and a status saying whether the
 * decision can use it.
 */
import type { MetricSpec } from '../api/neuronetes.ts';
import type { MetricSample } from './autoscaler-state.ts';
import type { MetricReport } from './decision.ts';
import type { MetricReading } from './metric-collection.ts';
import { metricKey, metricKind } from './metric-kinds.ts';
import { averageOverWindow, type WindowedValue } from './metric-window.ts';
import { proposeForMetric, type MetricAsk, type ReplicaInputs } from './replica-calculator.ts';

export interface MetricReports {
  readonly reports: MetricReport[];
  /** Metric key → the value the decision used (windowed), for the autoscaler plugins. */
  readonly values: Record<string, number>;
}

const MISSING: MetricReading = { status: 'missing', source: null };

function readingNote(reading: MetricReading): string {
  return `${reading.status}${reading.reason !== undefined ? `: ${reading.reason}` : ''}`;
}

/** A known value: its proposal, and `stale` / `no-ratio` when the decision must treat it with care. */
function knownReport(
  base: Omit<MetricReport, 'targetValue' | 'value' | 'status' | 'ratio' | 'replicas'>,
  ask: MetricAsk,
  windowed: WindowedValue,
  reading: MetricReading,
  current: number,
): MetricReport {
  const p = ask.proposal as NonNullable<MetricAsk['proposal']>;
  const why: string[] = [];
  if (windowed.stale) why.push(`no fresh value (${readingNote(reading)}); mean of ${windowed.count} samples in the window`);
  if (p.ratio === null)
    why.push(current === 0 ? 'no usage ratio at 0 replicas; replicas = ceil(value / target), as HPA' : 'the usage ratio is too large to compute');
  // Stale wins over no-ratio: it is what limits the decision (a stale value never scales down).
  const status = windowed.stale ? 'stale' : p.ratio === null ? 'no-ratio' : 'ok';
  return {
    ...base,
    targetValue: ask.targetValue,
    value: windowed.value ?? null,
    status,
    ...(why.length > 0 ? { reason: why.join('; ') } : {}),
    ratio: p.ratio,
    replicas: p.replicas,
  };
}

function reportOne(m: MetricSpec, reading: MetricReading, windowed: WindowedValue, inputs: ReplicaInputs): MetricReport {
  const type = metricKey(m.type);
  const base = {
    type,
    kind: metricKind(type, inputs.metricKinds),
    target: m.target,
    source: reading.source,
    ...(m.averagingWindow !== undefined ? { averagingWindow: m.averagingWindow, samples: windowed.count } : {}),
  };
  let ask: MetricAsk;
  try {
    ask = proposeForMetric(m, windowed.value, inputs);
  } catch (e: unknown) {
    return { ...base, targetValue: null, value: windowed.value ?? null, status: 'invalid', reason: (e as Error).message, ratio: null, replicas: null };
  }
  if (ask.proposal === undefined) {
    const status = reading.status === 'ok' ? 'missing' : reading.status;
    return {
      ...base,
      targetValue: ask.targetValue,
      value: null,
      status,
      ...(reading.reason !== undefined ? { reason: reading.reason } : {}),
      ratio: null,
      replicas: null,
    };
  }
  return knownReport(base, ask, windowed, reading, inputs.currentReplicas);
}

/**
 * `samples` is the pool state's, updated in place for metrics with an averaging window; `windowsMs`
 * holds each spec metric's window (undefined: none).
 */
export function reportMetrics(
  specMetrics: readonly MetricSpec[],
  windowsMs: readonly (number | undefined)[],
  readings: ReadonlyMap<string, MetricReading>,
  samples: Record<string, MetricSample[]>,
  now: number,
  inputs: ReplicaInputs,
): MetricReports {
  const reports: MetricReport[] = [];
  const values: Record<string, number> = {};
  for (const [i, m] of specMetrics.entries()) {
    const type = metricKey(m.type);
    const reading = readings.get(type) ?? MISSING;
    const windowMs = windowsMs[i];
    const windowed = averageOverWindow(samples[type], reading.value, now, windowMs);
    if (windowMs !== undefined) samples[type] = windowed.samples;
    const report = reportOne(m, reading, windowed, inputs);
    reports.push(report);
    if (report.status !== 'invalid' && windowed.value !== undefined) values[type] = windowed.value;
  }
  return { reports, values };
}
