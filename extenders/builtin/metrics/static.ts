/**
 * The embedded default metrics source: fixed values, from the pool's own annotations
 * (`metrics.neuronetes.io/<metric>: "42"`) or from the plugin config (`pools: {ns/name: {metric: v}}`,
 * then `values: {metric: v}`), so `npm start` decides on the bundled cluster with no Prometheus.
 * A metric it has no value for is missing, never 0.
 */
import { METRIC_TYPES, type AgentPool } from '../../../src/api/neuronetes.ts';
import { metricKey } from '../../../src/autoscaling/metric-kinds.ts';
import { registerMetricsProvider } from '../../../src/plugins/registry.ts';
import type { MetricsProvider, PluginContext } from '../../../src/plugins/types.ts';

export const METRIC_ANNOTATION_PREFIX = 'metrics.neuronetes.io/';

function fromMap(map: unknown, type: string, where: string): number | undefined {
  if (typeof map !== 'object' || map === null) return undefined;
  for (const [k, v] of Object.entries(map)) {
    if (metricKey(k) !== type) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`static: ${where}.${k} must be a number, not ${JSON.stringify(v)}`);
    return v;
  }
  return undefined;
}

export class StaticMetricsProvider implements MetricsProvider {
  name(): string {
    return 'static';
  }

  /** Lowest: any real source configured above it answers first. */
  priority(): number {
    return 10;
  }

  listMetrics(): string[] {
    return [...METRIC_TYPES];
  }

  getMetric(ctx: PluginContext, pool: AgentPool, metricType: string): number | undefined {
    const type = metricKey(metricType);
    for (const [key, text] of Object.entries(pool.metadata.annotations ?? {})) {
      if (!key.startsWith(METRIC_ANNOTATION_PREFIX) || metricKey(key.slice(METRIC_ANNOTATION_PREFIX.length)) !== type) continue;
      const value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) throw new Error(`static: annotation ${key} is ${JSON.stringify(text)}, not a number`);
      return value;
    }
    const ref = `${pool.metadata.namespace ?? 'default'}/${pool.metadata.name}`;
    const pools = ctx.config['pools'];
    const perPool = typeof pools === 'object' && pools !== null ? (pools as Record<string, unknown>)[ref] : undefined;
    return fromMap(perPool, type, `pools["${ref}"]`) ?? fromMap(ctx.config['values'], type, 'values');
  }
}

registerMetricsProvider(new StaticMetricsProvider());
