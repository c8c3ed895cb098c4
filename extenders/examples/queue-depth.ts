/**
 * The plugin guide's custom autoscaler, in TypeScript: `ceil(queueDepth / perReplica)` within the
 * pool's bounds. `perReplica` comes from the plugin's config (the guide's 10 by default).
 *
 * Load it with `plugins: [neuronetes:examples/queue-depth]` and list it under `autoscaler-plugins:`.
 */
import { registerAutoscaler, type AgentPool, type AutoscalerPlugin, type PluginContext } from '../../src/index.ts';

export class QueueDepthAutoscaler implements AutoscalerPlugin {
  name(): string {
    return 'queue-depth';
  }

  calculateReplicas(ctx: PluginContext, pool: AgentPool, currentMetrics: Readonly<Record<string, number>>): number {
    const queueDepth = currentMetrics['queue-depth'];
    // The guide's Go reads a missing map key as 0 and would scale to minReplicas; an unknown queue is no answer.
    if (queueDepth === undefined) throw new Error('queue-depth is not known for this pool');
    const perReplica = typeof ctx.config['perReplica'] === 'number' && ctx.config['perReplica'] > 0 ? ctx.config['perReplica'] : 10;
    let desiredReplicas = Math.ceil(queueDepth / perReplica);
    if (desiredReplicas < pool.spec.minReplicas) desiredReplicas = pool.spec.minReplicas;
    if (desiredReplicas > pool.spec.maxReplicas) desiredReplicas = pool.spec.maxReplicas;
    return desiredReplicas;
  }

  getMetricNames(): string[] {
    return ['queue-depth', 'custom-metric'];
  }

  priority(): number {
    return 150;
  }
}

registerAutoscaler(new QueueDepthAutoscaler());
