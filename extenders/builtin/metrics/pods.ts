/**
 * Metrics straight from the pool's pods, for clusters with no Prometheus: each running pod's own
 * `/metrics` (Prometheus text format) is scraped once per decision, `neuronetes_<metric_snake>` is
 * read from it (`names:` overrides), and the pods' values are combined — summed for additive metrics,
 * the worst (max) for level metrics like ttft-p95, or as `aggregations:` says.
 *
 *   metrics-provider-plugins:
 *     - name: pods
 *       config: {port: 8000, path: /metrics, aggregations: {queue-depth: sum}}
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Type } from 'typebox';
import { Agent, request, type Dispatcher } from 'undici';
import {
  definePlugin,
  DURATION_PATTERN,
  isActivePod,
  METRIC_TYPES,
  metricKey,
  metricKind,
  parseDuration,
  snakeName,
  type AgentPool,
  type MetricsProviderExtras,
  type PluginContext,
  type Pod,
} from 'neuronetes';
import { aggregate, AGGREGATIONS, byMetric, type Aggregation } from './prometheus.ts';

type Scrape = Promise<Map<string, number> | Error>;

/** Pod IPs are in status.podIP, which the core Pod schema lets through without naming. */
function podIp(pod: Pod): string | undefined {
  const ip = (pod.status as { podIP?: unknown } | undefined)?.podIP;
  return typeof ip === 'string' && ip !== '' ? ip : undefined;
}

/** Sums the samples of each metric family of one pod's exposition. */
function familyTotals(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const family of parsePrometheusTextFormat(text)) {
    let sum = 0;
    let any = false;
    for (const s of family.metrics) {
      const v = Number(s.value);
      if (Number.isFinite(v)) {
        sum += v;
        any = true;
      }
    }
    if (any) totals.set(family.name, sum);
  }
  return totals;
}

/** One scrape of `url`, as the metric families' totals, or the Error that stopped it. */
async function scrape(dispatcher: Dispatcher, url: string, signal: AbortSignal, timeoutMs: number): Scrape {
  try {
    const res = await request(url, { dispatcher, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return new Error(`${url} answered HTTP ${res.statusCode}`);
    }
    return familyTotals(await res.body.text());
  } catch (e: unknown) {
    const err = e as { code?: string; name?: string; message?: string };
    return new Error(`${url}: ${err.code ?? err.name ?? err.message ?? String(e)}`);
  }
}

export const pods = definePlugin({
  type: 'metrics-provider',
  name: 'pods',
  priority: 50,
  config: Type.Object(
    {
      // No default: without it, it would answer every metric ahead of `static` by scraping pods that may serve none.
      port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
      path: Type.String({ pattern: '^/', default: '/metrics' }),
      timeout: Type.String({ pattern: DURATION_PATTERN, default: '2s' }),
      names: Type.Record(Type.String(), Type.String({ minLength: 1 }), { default: {} }),
      aggregations: Type.Record(Type.String(), Type.Enum(AGGREGATIONS), { default: {} }),
    },
    { additionalProperties: false },
  ),
  defaults: { needs: { key: 'port', why: 'the port the pool pods serve their /metrics on' } },
  create(config) {
    const dispatcher: Dispatcher = new Agent({ connections: 2, connectTimeout: 1000, headersTimeout: 2000, bodyTimeout: 2000 });
    const timeoutMs = parseDuration(config.timeout);
    const names = byMetric(config.names);
    const aggregations = byMetric(config.aggregations);
    // One scrape per pod per decision: a decision's calls share its signal.
    const scrapes = new WeakMap<AbortSignal, Map<string, Scrape>>();
    const scrapeOnce = (signal: AbortSignal, url: string): Scrape => {
      let byUrl = scrapes.get(signal);
      if (byUrl === undefined) scrapes.set(signal, (byUrl = new Map()));
      let pending = byUrl.get(url);
      if (pending === undefined) byUrl.set(url, (pending = scrape(dispatcher, url, signal, timeoutMs)));
      return pending;
    };
    return {
      listMetrics: (): string[] => [...METRIC_TYPES],
      async getMetric(ctx: PluginContext & Partial<MetricsProviderExtras>, pool: AgentPool, metricType: string): Promise<number | undefined> {
        if (config.port === undefined) throw new Error('pods: no config.port; set it to the port the pool pods serve their metrics on');
        if (ctx.cluster === undefined) throw new Error('pods: no cluster view in the context');
        const type = metricKey(metricType);
        const family = names.get(type) ?? `neuronetes_${snakeName(type)}`;
        const how: Aggregation = aggregations.get(type) ?? (metricKind(type, new Map()) === 'additive' ? 'sum' : 'max');
        const running = ctx.cluster
          .podsOfPool(pool.metadata.namespace ?? 'default', pool.metadata.name)
          .filter((p) => isActivePod(p) && podIp(p) !== undefined);
        if (running.length === 0) return undefined;
        const results = await Promise.all(running.map((p) => scrapeOnce(ctx.signal, `http://${podIp(p) as string}:${config.port}${config.path}`)));
        const failures = results.filter((r): r is Error => r instanceof Error);
        if (failures.length === results.length)
          throw new Error(`no pod of ${pool.metadata.name} could be scraped: ${failures.map((f) => f.message).join('; ')}`);
        const values = results.flatMap((r) => (r instanceof Error ? [] : r.has(family) ? [r.get(family) as number] : []));
        return aggregate(values, how);
      },
    };
  },
});
