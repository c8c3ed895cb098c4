/**
 * The plugin guide's Prometheus metrics provider, made real: an instant query to `/api/v1/query`
 * per metric, `neuronetes_<metric_snake>{pool="<name>"}` by default (`queries:` overrides per metric;
 * `{{pool}}`, `{{namespace}}` and `{{metric}}` are filled in). An empty result is missing, never 0;
 * several series are aggregated (`aggregation:` sum by default, `aggregations:` per metric); HTTP
 * errors, query errors and timeouts fail the metric with the reason.
 *
 *   metrics-provider-plugins:
 *     - name: prometheus
 *       timeout: 2s
 *       config: {url: http://prometheus.monitoring:9090, aggregation: sum, aggregations: {ttft-p95: max}}
 */
import { Type, type Static } from 'typebox';
import { Pool, errors, request, type Dispatcher } from 'undici';
import { definePlugin, DURATION_PATTERN, METRIC_TYPES, metricKey, parseDuration, snakeName, type AgentPool, type PluginContext } from 'neuronetes';

export const DEFAULT_QUERY = 'neuronetes_{{metric}}{pool="{{pool}}"}';
export const AGGREGATIONS = ['sum', 'max', 'min', 'avg'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

const PrometheusConfig = Type.Object(
  {
    // No default: until it is set the plugin is off (`needs`).
    url: Type.Optional(Type.String({ pattern: '^https?://' })),
    queries: Type.Record(Type.String(), Type.String({ minLength: 1 }), { default: {} }),
    aggregation: Type.Enum(AGGREGATIONS, { default: 'sum' }),
    aggregations: Type.Record(Type.String(), Type.Enum(AGGREGATIONS), { default: {} }),
    timeout: Type.String({ pattern: DURATION_PATTERN, default: '2s' }),
    connections: Type.Integer({ minimum: 1, default: 4 }),
  },
  { additionalProperties: false },
);

/** A per-metric map with its keys as metric keys: `ttft_p95` and `ttft-p95` name one metric. */
export function byMetric<V>(map: Readonly<Record<string, V>>): ReadonlyMap<string, V> {
  return new Map(Object.entries(map).map(([k, v]) => [metricKey(k), v]));
}

export function renderQuery(template: string, pool: AgentPool, type: string): string {
  return template
    .replaceAll('{{metric}}', snakeName(type))
    .replaceAll('{{pool}}', pool.metadata.name)
    .replaceAll('{{namespace}}', pool.metadata.namespace ?? 'default');
}

export function aggregate(values: readonly number[], how: Aggregation): number | undefined {
  if (values.length === 0) return undefined;
  switch (how) {
    case 'max':
      return Math.max(...values);
    case 'min':
      return Math.min(...values);
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
    default:
      return values.reduce((a, b) => a + b, 0);
  }
}

interface QueryReply {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Sample values of an instant-query reply; NaN samples (Prometheus' "no value") are left out. */
export function sampleValues(reply: QueryReply): number[] {
  const { resultType, result } = reply.data ?? {};
  const samples: unknown[] =
    resultType === 'scalar' ? [result] : resultType === 'vector' && Array.isArray(result) ? result.map((r: { value?: unknown }) => r.value) : [];
  if (resultType !== 'scalar' && resultType !== 'vector')
    throw new Error(`Prometheus answered a ${String(resultType)} result; the query must give an instant vector or a scalar`);
  return samples.map((s) => (Array.isArray(s) ? Number(s[1]) : Number.NaN)).filter((v) => Number.isFinite(v));
}

function describe(e: unknown, url: URL, timeoutMs: number): string {
  if (e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError || e instanceof errors.ConnectTimeoutError)
    return `Prometheus at ${url.origin} did not answer in time (${e.code})`;
  const err = e as { name?: string; code?: string; message?: string };
  if (err.name === 'TimeoutError') return `Prometheus at ${url.origin} did not answer within ${timeoutMs}ms`;
  if (err.name === 'AbortError') return `the query was cut off by the plugin's deadline`;
  return `cannot query Prometheus at ${url.origin}: ${err.code ?? err.message ?? String(e)}`;
}

/** One instant query; `pool` is the capped connection pool to the Prometheus at `base`. */
async function query(ctx: PluginContext, base: URL, pool: Dispatcher, promql: string, timeoutMs: number): Promise<number[]> {
  const url = new URL('api/v1/query', base.href.endsWith('/') ? base : new URL(`${base.href}/`));
  url.searchParams.set('query', promql);
  let res;
  try {
    res = await request(url, {
      method: 'GET',
      dispatcher: pool,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
      headers: { accept: 'application/json' },
    });
  } catch (e: unknown) {
    throw new Error(describe(e, base, timeoutMs), { cause: e });
  }
  let reply: QueryReply;
  try {
    reply = (await res.body.json()) as QueryReply;
  } catch (e: unknown) {
    throw new Error(e instanceof SyntaxError ? `Prometheus answered HTTP ${res.statusCode} with a body that is not JSON` : describe(e, base, timeoutMs), {
      cause: e,
    });
  }
  if (res.statusCode !== 200 || reply.status !== 'success') {
    throw new Error(`Prometheus answered HTTP ${res.statusCode}${reply.error !== undefined ? `: ${reply.errorType ?? 'error'}: ${reply.error}` : ''}`);
  }
  return sampleValues(reply);
}

/** The instance's connection pool, made once per config: the dispatcher defaults (10 s / 300 s) are far too long. */
function connectionPool(base: URL, config: Static<typeof PrometheusConfig>, timeoutMs: number): Dispatcher {
  return new Pool(base.origin, {
    connections: config.connections,
    connectTimeout: Math.min(1000, timeoutMs),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

export const prometheus = definePlugin({
  type: 'metrics-provider',
  name: 'prometheus',
  priority: 100,
  config: PrometheusConfig,
  defaults: { timeout: '2s', needs: { key: 'url', why: 'the Prometheus base URL, e.g. http://prometheus.monitoring.svc:9090' } },
  create(config) {
    const timeoutMs = parseDuration(config.timeout);
    const queries = byMetric(config.queries);
    const aggregations = byMetric(config.aggregations);
    const base = config.url === undefined ? undefined : new URL(config.url);
    const pool = base === undefined ? undefined : connectionPool(base, config, timeoutMs);
    return {
      listMetrics: (): string[] => [...METRIC_TYPES],
      async getMetric(ctx: PluginContext, agentPool: AgentPool, metricType: string): Promise<number | undefined> {
        if (base === undefined || pool === undefined)
          throw new Error('prometheus: no config.url; set it to the Prometheus base URL (e.g. http://prometheus:9090)');
        const type = metricKey(metricType);
        const values = await query(ctx, base, pool, renderQuery(queries.get(type) ?? DEFAULT_QUERY, agentPool, type), timeoutMs);
        return aggregate(values, aggregations.get(type) ?? config.aggregation);
      },
    };
  },
});
