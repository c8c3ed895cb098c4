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
import { Pool, errors, request, type Dispatcher } from 'undici';
import { METRIC_TYPES, type AgentPool } from '../../../src/api/neuronetes.ts';
import { metricKey, snakeName } from '../../../src/autoscaling/metric-kinds.ts';
import { registerMetricsProvider } from '../../../src/plugins/registry.ts';
import type { MetricsProvider, PluginContext } from '../../../src/plugins/types.ts';
import { parseDuration } from '../../../src/util/duration.ts';

export const DEFAULT_QUERY = 'neuronetes_{{metric}}{pool="{{pool}}"}';
const AGGREGATIONS = ['sum', 'max', 'min', 'avg'] as const;
type Aggregation = (typeof AGGREGATIONS)[number];

interface PrometheusSettings {
  readonly url: URL;
  readonly query: string;
  readonly aggregation: Aggregation;
  readonly timeoutMs: number;
  readonly connections: number;
}

function str(config: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const v = config[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new Error(`prometheus: config.${key} must be a non-empty string`);
  return v;
}

function perMetric(config: Readonly<Record<string, unknown>>, key: string, type: string): unknown {
  const map = config[key];
  if (typeof map !== 'object' || map === null) return undefined;
  return Object.entries(map).find(([k]) => metricKey(k) === type)?.[1];
}

function aggregationOf(v: unknown, where: string): Aggregation | undefined {
  if (v === undefined) return undefined;
  if (!(AGGREGATIONS as readonly unknown[]).includes(v)) throw new Error(`prometheus: ${where} must be one of ${AGGREGATIONS.join(', ')}`);
  return v as Aggregation;
}

export function settingsFor(config: Readonly<Record<string, unknown>>, type: string): PrometheusSettings {
  const url = str(config, 'url');
  if (url === undefined) throw new Error('prometheus: no config.url; set it to the Prometheus base URL (e.g. http://prometheus:9090)');
  const query = perMetric(config, 'queries', type);
  if (query !== undefined && typeof query !== 'string') throw new Error(`prometheus: queries.${type} must be a string`);
  const connections = config['connections'] ?? 4;
  if (typeof connections !== 'number' || !Number.isInteger(connections) || connections < 1) throw new Error('prometheus: config.connections must be a positive integer');
  return {
    url: new URL(url),
    query: query ?? DEFAULT_QUERY,
    aggregation: aggregationOf(perMetric(config, 'aggregations', type), `aggregations.${type}`) ?? aggregationOf(config['aggregation'], 'config.aggregation') ?? 'sum',
    timeoutMs: parseDuration(str(config, 'timeout') ?? '2s'),
    connections,
  };
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
  if (resultType !== 'scalar' && resultType !== 'vector') throw new Error(`Prometheus answered a ${String(resultType)} result; the query must give an instant vector or a scalar`);
  return samples
    .map((s) => (Array.isArray(s) ? Number(s[1]) : Number.NaN))
    .filter((v) => Number.isFinite(v));
}

function describe(e: unknown, url: URL, timeoutMs: number): string {
  if (e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError || e instanceof errors.ConnectTimeoutError) return `Prometheus at ${url.origin} did not answer in time (${e.code})`;
  const err = e as { name?: string; code?: string; message?: string };
  if (err.name === 'TimeoutError') return `Prometheus at ${url.origin} did not answer within ${timeoutMs}ms`;
  if (err.name === 'AbortError') return `the query was cut off by the plugin's deadline`;
  return `cannot query Prometheus at ${url.origin}: ${err.code ?? err.message ?? String(e)}`;
}

export class PrometheusMetricsProvider implements MetricsProvider {
  /** One capped connection pool per Prometheus: the dispatcher defaults (10 s / 300 s) are far too long. */
  readonly #pools = new Map<string, Dispatcher>();

  name(): string {
    return 'prometheus';
  }

  priority(): number {
    return 100;
  }

  listMetrics(): string[] {
    return [...METRIC_TYPES];
  }

  #dispatcher(s: PrometheusSettings): Dispatcher {
    const key = `${s.url.origin}#${s.connections}#${s.timeoutMs}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new Pool(s.url.origin, { connections: s.connections, connectTimeout: Math.min(1000, s.timeoutMs), headersTimeout: s.timeoutMs, bodyTimeout: s.timeoutMs });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  async getMetric(ctx: PluginContext, pool: AgentPool, metricType: string): Promise<number | undefined> {
    const type = metricKey(metricType);
    const s = settingsFor(ctx.config, type);
    const url = new URL('api/v1/query', s.url.href.endsWith('/') ? s.url : new URL(`${s.url.href}/`));
    url.searchParams.set('query', renderQuery(s.query, pool, type));
    let res;
    try {
      res = await request(url, {
        method: 'GET',
        dispatcher: this.#dispatcher(s),
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(s.timeoutMs)]),
        headers: { accept: 'application/json' },
      });
    } catch (e: unknown) {
      throw new Error(describe(e, s.url, s.timeoutMs), { cause: e });
    }
    let reply: QueryReply;
    try {
      reply = (await res.body.json()) as QueryReply;
    } catch (e: unknown) {
      throw new Error(e instanceof SyntaxError ? `Prometheus answered HTTP ${res.statusCode} with a body that is not JSON` : describe(e, s.url, s.timeoutMs), { cause: e });
    }
    if (res.statusCode !== 200 || reply.status !== 'success') {
      throw new Error(`Prometheus answered HTTP ${res.statusCode}${reply.error !== undefined ? `: ${reply.errorType ?? 'error'}: ${reply.error}` : ''}`);
    }
    return aggregate(sampleValues(reply), s.aggregation);
  }

  /** Releases the connection pools (tests, shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
    this.#pools.clear();
  }
}

export const prometheusProvider = new PrometheusMetricsProvider();
registerMetricsProvider(prometheusProvider);
