/**
 * The plugin guide's metrics provider example: asks Prometheus for `neuronetes_<metric>{pool="<name>"}`
 * (the guide's query, with the pool's namespace added) through its HTTP API. The built-in `prometheus`
 * provider is the configurable one (queries per metric, averaging windows); this is the guide's
 * shape, under its own name so both can be loaded.
 *
 * Load it with `plugins: [neuronetes:examples/prometheus-metrics]` and set its `url` under
 * `metrics-provider-plugins:`; until the url is set it stays off.
 */
import { Type } from 'typebox';
import { definePlugin, registerPlugin } from 'neuronetes';

interface QueryReply {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

export const prometheusMetrics = definePlugin({
  type: 'metrics-provider',
  name: 'prometheus-metrics',
  defaults: { timeout: '2s', needs: { key: 'url', why: 'the Prometheus base URL, e.g. http://prometheus.monitoring.svc:9090' } },
  config: Type.Object({ url: Type.String({ default: '' }) }, { additionalProperties: false }),
  create: (config) => ({
    listMetrics: () => ['tokens_per_second', 'ttft_p95', 'concurrent_sessions', 'queue_depth'],

    async getMetric(ctx, pool, metricType) {
      const query = `neuronetes_${metricType.replaceAll('-', '_')}{namespace="${pool.metadata.namespace ?? 'default'}",pool="${pool.metadata.name}"}`;
      const res = await fetch(new URL(`/api/v1/query?query=${encodeURIComponent(query)}`, config.url), { signal: ctx.signal });
      const reply = (await res.json()) as QueryReply;
      if (!res.ok || reply.status !== 'success') throw new Error(`Prometheus answered ${res.status}: ${reply.error ?? reply.status}`);
      const series = reply.data?.result ?? [];
      // No series is no data, never 0; several would need a rule to combine them, which the guide's query has not.
      if (series.length > 1) throw new Error(`${query} matched ${series.length} series; expected one`);
      const value = Number(series[0]?.value[1]);
      return Number.isFinite(value) ? value : undefined;
    },
  }),
});

registerPlugin(prometheusMetrics);
