/**
 * HPA's stabilization (stabilizeRecommendationWithBehaviors): the recommendation is kept between the
 * lowest recent one inside the scale-up window and the highest inside the scale-down window, so a
 * pool never flaps on a noisy metric.
 */
export interface Recommendation {
  readonly time: number;
  readonly replicas: number;
}

export type StabilizationReason = 'ScaleUpStabilized' | 'ScaleDownStabilized' | 'ReadyForNewScale';

export interface Stabilized {
  readonly replicas: number;
  readonly reason: StabilizationReason;
}

/** `history` excludes `desired`, which the caller records afterwards. */
export function stabilize(
  history: readonly Recommendation[],
  desired: number,
  current: number,
  upWindowMs: number,
  downWindowMs: number,
  now: number,
): Stabilized {
  const upCutoff = now - upWindowMs;
  const downCutoff = now - downWindowMs;
  let up = desired;
  let down = desired;
  for (const r of history) {
    if (r.time > upCutoff) up = Math.min(up, r.replicas);
    if (r.time > downCutoff) down = Math.max(down, r.replicas);
  }
  const replicas = Math.min(Math.max(current, up), down);
  if (replicas === desired) return { replicas, reason: 'ReadyForNewScale' };
  return { replicas, reason: desired >= current ? 'ScaleUpStabilized' : 'ScaleDownStabilized' };
}
