/**
 * An LLM-aware autoscaler on the pool's latency SLO (`ttft-p95` target) and its token backlog
 * (`tokens-in-queue` target per replica).
 *
 * - Normal mode: enough replicas for the backlog and for TTFT (latency taken as inversely
 *   proportional to replicas, the HPA level-metric model).
 * - Panic mode (Knative's panic window): when a ratio reaches `panicThreshold` (default 2), the pool
 *   is in a burst; for `panicWindow` (default 60s) after the last panic sign it never scales down.
 * - Scale-down only to a count whose projected TTFT stays under `sloHeadroom` (default 0.8) of the
 *   SLO; with no TTFT reading it does not scale down at all.
 */
import { Type } from 'typebox';
import { definePlugin, DURATION_PATTERN, MAX_REPLICAS, metricKey, parseDuration, parseMetricTarget, type AgentPool, type AutoscalerContext } from 'neuronetes';

const TTFT = 'ttft-p95';
const TOKENS = 'tokens-in-queue';

function targetOf(pool: AgentPool, type: string, latency: boolean): number | undefined {
  const m = pool.spec.autoscaling?.metrics?.find((x) => metricKey(x.type) === type);
  return m === undefined ? undefined : parseMetricTarget(type, m.target, latency);
}

export const slo = definePlugin({
  type: 'autoscaler',
  name: 'slo',
  priority: 90,
  config: Type.Object(
    {
      panicThreshold: Type.Number({ exclusiveMinimum: 0, default: 2 }),
      sloHeadroom: Type.Number({ exclusiveMinimum: 0, default: 0.8 }),
      panicWindow: Type.String({ pattern: DURATION_PATTERN, default: '60s' }),
    },
    { additionalProperties: false },
  ),
  create(config) {
    const panicWindowMs = parseDuration(config.panicWindow);
    /** When each pool last showed a panic sign (epoch ms): the instance outlives decisions. */
    const lastPanics = new Map<string, number>();
    return {
      getMetricNames: (): string[] => [TTFT, TOKENS],
      calculateReplicas(ctx: AutoscalerContext, pool: AgentPool, metrics: Readonly<Record<string, number>>): number {
        const c = ctx.currentReplicas;
        const slo = targetOf(pool, TTFT, true);
        const perReplica = targetOf(pool, TOKENS, false);
        const ttft = metrics[TTFT];
        const tokens = metrics[TOKENS];
        const latencyRatio = slo !== undefined && ttft !== undefined ? ttft / slo : undefined;
        const backlogRatio = perReplica !== undefined && tokens !== undefined ? tokens / (perReplica * Math.max(c, 1)) : undefined;
        if (latencyRatio === undefined && backlogRatio === undefined) throw new Error('slo: neither ttft-p95 nor tokens-in-queue is known for this pool');

        const wants: number[] = [];
        if (latencyRatio !== undefined) wants.push(Math.ceil(Math.max(c, 1) * latencyRatio));
        if (perReplica !== undefined && tokens !== undefined) wants.push(Math.ceil(tokens / perReplica));
        const normal = Math.min(MAX_REPLICAS, Math.max(...wants));

        const key = `${pool.metadata.namespace ?? 'default'}/${pool.metadata.name}`;
        if ((latencyRatio ?? 0) >= config.panicThreshold || (backlogRatio ?? 0) >= config.panicThreshold) lastPanics.set(key, ctx.now);
        const lastPanic = lastPanics.get(key);
        const panicking = lastPanic !== undefined && ctx.now - lastPanic < panicWindowMs;
        if (!panicking) lastPanics.delete(key);
        if (normal >= c) return normal;
        // Scaling down: never in panic, never blind to latency, never past the SLO headroom.
        if (panicking || ttft === undefined || slo === undefined) return c;
        const floor = Math.ceil((ttft * c) / (config.sloHeadroom * slo));
        return Math.min(c, Math.max(normal, floor));
      },
    };
  },
});
