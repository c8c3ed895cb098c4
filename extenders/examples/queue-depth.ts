/**
 * The plugin guide's custom autoscaler, in TypeScript and as a definition with a typed config:
 * `ceil(queueDepth / perReplica)` within the pool's bounds (`perReplica`: the guide's 10 by default).
 *
 * Load it with `plugins: [neuronetes:examples/queue-depth]` and list it under `autoscaler-plugins:`.
 */
import { Type } from 'typebox';
import { definePlugin, registerPlugin } from 'neuronetes';

export const queueDepth = definePlugin({
  type: 'autoscaler',
  name: 'queue-depth',
  priority: 150,
  config: Type.Object(
    { perReplica: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'queued requests one replica handles' }) },
    { additionalProperties: false },
  ),
  create: (config) => ({
    getMetricNames: () => ['queue-depth', 'custom-metric'],
    calculateReplicas: (_ctx, pool, metrics) => {
      const queueDepth = metrics['queue-depth'];
      // The guide's Go reads a missing map key as 0 and would scale to minReplicas; an unknown queue is no answer.
      if (queueDepth === undefined) throw new Error('queue-depth is not known for this pool');
      const desired = Math.ceil(queueDepth / config.perReplica);
      return Math.min(pool.spec.maxReplicas, Math.max(pool.spec.minReplicas, desired));
    },
  }),
});

registerPlugin(queueDepth);
