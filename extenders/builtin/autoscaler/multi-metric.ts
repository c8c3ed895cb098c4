/**
 * The HPA-style default: every metric of the pool proposes what it alone needs (additive metrics
 * ceil(total / target), level metrics ceil(replicas × value / target)) and the pool gets the largest
 * proposal, as HPA does across metrics. Missing metrics propose nothing; the decision's stages apply
 * tolerance, bounds, stabilization, rate limits and cooldown afterwards.
 */
import { Type } from 'typebox';
import { definePlugin, metricKey, proposeForMetric, type AgentPool, type AutoscalerContext } from 'neuronetes';

/** The largest proposal of the pool's metrics; undefined when none has a value and a valid target. */
function largestProposal(ctx: AutoscalerContext, pool: AgentPool, metrics: Readonly<Record<string, number>>): number | undefined {
  let best: number | undefined;
  for (const m of pool.spec.autoscaling?.metrics ?? []) {
    let asked: number | undefined;
    try {
      asked = proposeForMetric(m, metrics[metricKey(m.type)], ctx).proposal?.replicas;
    } catch {
      continue; // reported as an invalid metric by the decision
    }
    if (asked !== undefined) best = Math.max(best ?? asked, asked);
  }
  return best;
}

export const multiMetric = definePlugin({
  type: 'autoscaler',
  name: 'multi-metric',
  priority: 100,
  // No settings: an empty schema so that a stray `config:` key is reported rather than ignored.
  config: Type.Object({}, { additionalProperties: false }),
  create: () => ({
    /** Empty: it applies to every pool (custom metric types included). */
    getMetricNames: (): string[] => [],
    // Nothing known: hold (the decision reports the metrics as unavailable).
    calculateReplicas: (ctx: AutoscalerContext, pool: AgentPool, metrics: Readonly<Record<string, number>>): number =>
      largestProposal(ctx, pool, metrics) ?? ctx.currentReplicas,
  }),
});
