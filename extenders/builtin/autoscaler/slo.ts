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
import type { AgentPool } from '../../../src/api/neuronetes.ts';
import { metricKey } from '../../../src/autoscaling/metric-kinds.ts';
import { parseMetricTarget } from '../../../src/autoscaling/metric-target.ts';
import type { AutoscalerContext } from '../../../src/autoscaling/recommendation-chain.ts';
import { MAX_REPLICAS } from '../../../src/autoscaling/replica-calculator.ts';
import { registerAutoscaler } from '../../../src/plugins/registry.ts';
import type { AutoscalerPlugin } from '../../../src/plugins/types.ts';
import { parseDuration } from '../../../src/util/duration.ts';

const TTFT = 'ttft-p95';
const TOKENS = 'tokens-in-queue';

function numberSetting(config: Readonly<Record<string, unknown>>, key: string, fallback: number): number {
  const v = config[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`slo: config.${key} must be a positive number, not ${JSON.stringify(v)}`);
  return v;
}

function targetOf(pool: AgentPool, type: string, latency: boolean): number | undefined {
  const m = pool.spec.autoscaling?.metrics?.find((x) => metricKey(x.type) === type);
  return m === undefined ? undefined : parseMetricTarget(type, m.target, latency);
}

export class SloAutoscaler implements AutoscalerPlugin {
  /** When each pool last showed a panic sign (epoch ms); plugins outlive requests. */
  readonly #lastPanic = new Map<string, number>();

  name(): string {
    return 'slo';
  }

  priority(): number {
    return 90;
  }

  getMetricNames(): string[] {
    return [TTFT, TOKENS];
  }

  calculateReplicas(ctx: AutoscalerContext, pool: AgentPool, metrics: Readonly<Record<string, number>>): number {
    const threshold = numberSetting(ctx.config, 'panicThreshold', 2);
    const headroom = numberSetting(ctx.config, 'sloHeadroom', 0.8);
    const panicWindowMs = parseDuration(typeof ctx.config['panicWindow'] === 'string' ? ctx.config['panicWindow'] : '60s');
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
    if ((latencyRatio ?? 0) >= threshold || (backlogRatio ?? 0) >= threshold) this.#lastPanic.set(key, ctx.now);
    const lastPanic = this.#lastPanic.get(key);
    const panicking = lastPanic !== undefined && ctx.now - lastPanic < panicWindowMs;
    if (!panicking) this.#lastPanic.delete(key);
    if (normal >= c) return normal;
    // Scaling down: never in panic, never blind to latency, never past the SLO headroom.
    if (panicking || ttft === undefined || slo === undefined) return c;
    const floor = Math.ceil((ttft * c) / (headroom * slo));
    return Math.min(c, Math.max(normal, floor));
  }
}

registerAutoscaler(new SloAutoscaler());
