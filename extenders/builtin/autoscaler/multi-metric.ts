/**
 * The HPA-style default: every metric of the pool proposes what it alone needs (additive metrics
 * ceil(total / target), level metrics ceil(replicas × value / target)) and the pool gets the largest
 * proposal, as HPA does across metrics. Missing metrics propose nothing; the decision's stages apply
 * tolerance, bounds, stabilization, rate limits and cooldown afterwards.
 */
import type { AgentPool } from '../../../src/api/neuronetes.ts';
import { metricKey, metricKind } from '../../../src/autoscaling/metric-kinds.ts';
import { parseMetricTarget } from '../../../src/autoscaling/metric-target.ts';
import type { AutoscalerContext } from '../../../src/autoscaling/recommendation-chain.ts';
import { proposeReplicas } from '../../../src/autoscaling/replica-calculator.ts';
import { registerAutoscaler } from '../../../src/plugins/registry.ts';
import type { AutoscalerPlugin } from '../../../src/plugins/types.ts';

export class MultiMetricAutoscaler implements AutoscalerPlugin {
  name(): string {
    return 'multi-metric';
  }

  priority(): number {
    return 100;
  }

  /** Empty: it applies to every pool (custom metric types included). */
  getMetricNames(): string[] {
    return [];
  }

  calculateReplicas(ctx: AutoscalerContext, pool: AgentPool, metrics: Readonly<Record<string, number>>): number {
    let best: number | undefined;
    for (const m of pool.spec.autoscaling?.metrics ?? []) {
      const type = metricKey(m.type);
      const value = metrics[type];
      if (value === undefined) continue;
      let target: number;
      try {
        target = parseMetricTarget(type, m.target, ctx.latencyMetrics.has(type));
      } catch {
        continue; // reported as an invalid metric by the decision
      }
      const p = proposeReplicas(metricKind(type, ctx.metricKinds), value, target, ctx.currentReplicas, ctx.readyReplicas);
      best = best === undefined ? p.replicas : Math.max(best, p.replicas);
    }
    // Nothing known: hold (the decision reports the metrics as unavailable).
    return best ?? ctx.currentReplicas;
  }
}

registerAutoscaler(new MultiMetricAutoscaler());
