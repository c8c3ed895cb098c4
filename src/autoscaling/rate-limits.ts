/**
 * HPA's scaling policies (calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors),
 * counted against real past scale events: the replicas the pool had at the start of each policy's
 * period bound how far it may move by the end of it.
 */
import { MAX_REPLICAS } from './replica-calculator.ts';
import type { DirectionRules, ScalingPolicy } from './scaling-rules.ts';

/** A change of the pool's replicas that happened: +n scaled up, −n scaled down. */
export interface ScaleEvent {
  readonly time: number;
  readonly change: number;
}

/** Replicas added (`direction` 1) or removed (−1) by events inside the period ending at `now`. */
export function changeInPeriod(events: readonly ScaleEvent[], periodSeconds: number, now: number, direction: 1 | -1): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.time > cutoff && Math.sign(e.change) === direction) sum += Math.abs(e.change);
  return sum;
}

function periodStart(current: number, events: readonly ScaleEvent[], p: ScalingPolicy, now: number): number {
  return current - changeInPeriod(events, p.periodSeconds, now, 1) + changeInPeriod(events, p.periodSeconds, now, -1);
}

/** The most replicas the rules allow now; never below `current` (HPA clamps a stale limit to it). */
export function scaleUpLimit(current: number, events: readonly ScaleEvent[], rules: DirectionRules, now: number): number {
  if (rules.selectPolicy === 'Disabled' || rules.policies.length === 0) return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let limit: number | undefined;
  for (const p of rules.policies) {
    const start = periodStart(current, events, p, now);
    // Percent rounds up, or a small pool could never grow (HPA's comment).
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    limit = limit === undefined ? proposed : pick(limit, proposed);
  }
  return Math.min(MAX_REPLICAS, Math.max(current, limit ?? current));
}

/** The fewest replicas the rules allow now; never above `current`. */
export function scaleDownLimit(current: number, events: readonly ScaleEvent[], rules: DirectionRules, now: number): number {
  if (rules.selectPolicy === 'Disabled' || rules.policies.length === 0) return current;
  // The largest change wins under Max: for scaling down that is the smallest replica count.
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let limit: number | undefined;
  for (const p of rules.policies) {
    const start = periodStart(current, events, p, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    limit = limit === undefined ? proposed : pick(limit, proposed);
  }
  return Math.min(current, limit ?? current);
}
