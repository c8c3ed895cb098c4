/**
 * A pool metric's `target` is a string: a quantity ("100", "1.5k", "250m") or, for latencies, a
 * duration ("500ms" → 0.5 s). Latency values everywhere in the autoscaler are in seconds.
 */
import { parseDuration } from '../util/duration.ts';
import { parseQuantity } from '../util/quantity.ts';

export class MetricTargetError extends Error {
  constructor(type: string, target: string, why: string) {
    super(`metric ${type}: invalid target ${JSON.stringify(target)}: ${why}`);
    this.name = 'MetricTargetError';
  }
}

function tryDurationSeconds(text: string): number | undefined {
  try {
    return parseDuration(text) / 1000;
  } catch {
    return undefined;
  }
}

function tryQuantity(text: string): number | undefined {
  try {
    return parseQuantity(text);
  } catch {
    return undefined;
  }
}

/**
 * Parses a target to a positive number. "5m" is both a quantity (0.005) and a duration (300 s): it
 * is a duration for latency metrics and a quantity for the others.
 */
export function parseMetricTarget(type: string, target: string, latency: boolean): number {
  const seconds = tryDurationSeconds(target);
  const quantity = tryQuantity(target);
  const value = latency ? (seconds ?? quantity) : (quantity ?? seconds);
  if (value === undefined) throw new MetricTargetError(type, target, 'expected a number or quantity ("100", "1.5k") or a duration ("500ms")');
  if (!(value > 0)) throw new MetricTargetError(type, target, 'a target must be greater than zero');
  if (!Number.isFinite(value)) throw new MetricTargetError(type, target, 'too large');
  return value;
}
