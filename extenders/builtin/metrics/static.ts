/**
 * The embedded default metrics source: fixed values, from the pool's own annotations
 * (`metrics.neuronetes.io/<metric>: "42"`) or from the plugin config (`pools: {ns/name: {metric: v}}`,
 * then `values: {metric: v}`), so `npm start` decides on the bundled cluster with no Prometheus.
 * A metric it has no value for is missing, never 0.
 */
import { Type } from 'typebox';
import { definePlugin, METRIC_TYPES, metricKey, type AgentPool } from 'neuronetes';
import { byMetric } from './prometheus.ts';

export const METRIC_ANNOTATION_PREFIX = 'metrics.neuronetes.io/';

const Values = Type.Record(Type.String(), Type.Number());

function fromAnnotations(pool: AgentPool, type: string): number | undefined {
  for (const [key, text] of Object.entries(pool.metadata.annotations ?? {})) {
    if (!key.startsWith(METRIC_ANNOTATION_PREFIX) || metricKey(key.slice(METRIC_ANNOTATION_PREFIX.length)) !== type) continue;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) throw new Error(`static: annotation ${key} is ${JSON.stringify(text)}, not a number`);
    return value;
  }
  return undefined;
}

export const staticMetrics = definePlugin({
  type: 'metrics-provider',
  name: 'static',
  // Lowest: any real source configured above it answers first.
  priority: 10,
  config: Type.Object(
    {
      /** `namespace/name` → metric → value. */
      pools: Type.Record(Type.String(), Values, { default: {} }),
      values: Type.Record(Type.String(), Type.Number(), { default: {} }),
    },
    { additionalProperties: false },
  ),
  create(config) {
    const perPool = new Map(Object.entries(config.pools).map(([ref, values]) => [ref, byMetric(values)]));
    const everywhere = byMetric(config.values);
    return {
      listMetrics: (): string[] => [...METRIC_TYPES],
      getMetric(_ctx, pool: AgentPool, metricType: string): number | undefined {
        const type = metricKey(metricType);
        const ref = `${pool.metadata.namespace ?? 'default'}/${pool.metadata.name}`;
        return fromAnnotations(pool, type) ?? perPool.get(ref)?.get(type) ?? everywhere.get(type);
      },
    };
  },
});
