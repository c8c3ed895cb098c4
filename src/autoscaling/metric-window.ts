/**
 * A metric's `averagingWindow`: its value is the mean of the samples taken inside the window. When a
 * fresh sample is missing but the window still holds older ones, their mean stands in and the metric
 * is stale.
 */
import type { MetricSample } from './autoscaler-state.ts';

export interface WindowedValue {
  readonly value: number | undefined;
  readonly stale: boolean;
  /** Samples that count (fresh one included). */
  readonly count: number;
  /** What to keep for the next decision. */
  readonly samples: MetricSample[];
}

export function averageOverWindow(
  previous: readonly MetricSample[] | undefined,
  fresh: number | undefined,
  now: number,
  windowMs: number | undefined,
): WindowedValue {
  if (windowMs === undefined || windowMs <= 0) return { value: fresh, stale: false, count: fresh === undefined ? 0 : 1, samples: [] };
  const cutoff = now - windowMs;
  const samples = (previous ?? []).filter((s) => s.time > cutoff && s.time < now);
  if (fresh !== undefined) samples.push({ time: now, value: fresh });
  if (samples.length === 0) return { value: undefined, stale: false, count: 0, samples };
  const n = samples.length;
  const total = samples.reduce((sum, s) => sum + s.value, 0);
  // Values near Number.MAX_VALUE overflow the sum; dividing first keeps the mean finite.
  const mean = Number.isFinite(total) ? total / n : samples.reduce((sum, s) => sum + s.value / n, 0);
  return { value: mean, stale: fresh === undefined, count: samples.length, samples };
}
