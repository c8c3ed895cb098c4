/**
 * Warm headroom (`spec.prewarmPercent`): the pool controller scales the target to the serving count
 * plus ceil(serving × prewarmPercent / 100) replicas, never above maxReplicas (the user's GPU
 * budget); a pool at 0 replicas keeps none warm. The serving count (`spec.replicas`, or minReplicas
 * while unset) stays what the autoscaler, KEDA and `kubectl scale` decide and read, so the warm pods
 * are taken out of the counts the autoscaler scales from: counted in, a decision would keep its
 * current count, which the controller would warm again, and the pool would climb to maxReplicas.
 */
import type { AgentPool } from '../api/neuronetes.ts';

/** spec.replicas, or minReplicas while unset: what the autoscaler decided, without warm headroom. */
export const servingReplicas = (pool: AgentPool): number => pool.spec.replicas ?? pool.spec.minReplicas;

/** How many warm replicas the pool keeps beyond its serving count. */
export function warmReplicas(pool: AgentPool): number {
  const serving = servingReplicas(pool);
  const percent = pool.spec.prewarmPercent ?? 0;
  if (serving <= 0 || percent <= 0) return 0;
  return Math.max(0, Math.min(Math.ceil((serving * percent) / 100), pool.spec.maxReplicas - serving));
}

/** The count the target is scaled to: serving plus warm. */
export const targetReplicas = (pool: AgentPool): number => servingReplicas(pool) + warmReplicas(pool);

/** " (5 + 1 warm)" after a target count that holds warm replicas; nothing without. */
export const warmSplit = (serving: number, warm: number): string => (warm > 0 ? ` (${serving} + ${warm} warm)` : '');

/**
 * The part of `count` pods that is warm headroom: those beyond the serving count, up to the warm
 * count. Pods beyond both (a scale-down in progress) stay counted as serving, as without prewarm.
 */
export function warmPart(pool: AgentPool, count: number): number {
  return Math.max(0, Math.min(count - servingReplicas(pool), warmReplicas(pool)));
}

/**
 * The pool's current and ready counts as the autoscaler scales from them: its status counts without
 * their warm part. Undefined when the controller has not counted the pool's pods yet.
 */
export function autoscalerCounts(pool: AgentPool): { replicas: number | undefined; readyReplicas: number | undefined } {
  const { replicas, readyReplicas } = pool.status ?? {};
  return {
    replicas: replicas === undefined ? undefined : replicas - warmPart(pool, replicas),
    readyReplicas: readyReplicas === undefined ? undefined : readyReplicas - warmPart(pool, readyReplicas),
  };
}
