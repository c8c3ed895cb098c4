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
import { Agent, request, type Dispatcher } from 'undici';
import { METRIC_TYPES, type AgentPool } from '../../../src/api/neuronetes.ts';
import type { Pod } from '../../../src/api/kubernetes.ts';
import type { MetricsProviderExtras } from '../../../src/autoscaling/metric-collection.ts';
import { metricKey, metricKind, snakeName } from '../../../src/autoscaling/metric-kinds.ts';
import { isActivePod } from '../../../src/cluster/cluster-view.ts';
import { registerMetricsProvider } from '../../../src/plugins/registry.ts';
import type { MetricsProvider, PluginContext } from '../../../src/plugins/types.ts';
import { parseDuration } from '../../../src/util/duration.ts';
import { aggregate } from './prometheus.ts';

type Scrape = Promise<Map<string, number> | Error>;

/** Pod IPs are in status.podIP, which the core Pod schema lets through without naming. */
function podIp(pod: Pod): string | undefined {
  const ip = (pod.status as { podIP?: unknown } | undefined)?.podIP;
  return typeof ip === 'string' && ip !== '' ? ip : undefined;
}

function setting<T>(config: Readonly<Record<string, unknown>>, key: string, fallback: T, ok: (v: unknown) => v is T): T {
  const v = config[key];
  if (v === undefined) return fallback;
  if (!ok(v)) throw new Error(`pods: config.${key} has the wrong type (${JSON.stringify(v)})`);
  return v;
}
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;
const isString = (v: unknown): v is string => typeof v === 'string' && v !== '';

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

export class PodsMetricsProvider implements MetricsProvider {
  readonly #agent: Dispatcher = new Agent({ connections: 2, connectTimeout: 1000, headersTimeout: 2000, bodyTimeout: 2000 });
  /** One scrape per pod per decision: a pass's calls share its signal. */
  readonly #scrapes = new WeakMap<AbortSignal, Map<string, Scrape>>();

  name(): string {
    return 'pods';
  }

  priority(): number {
    return 50;
  }

  listMetrics(): string[] {
    return [...METRIC_TYPES];
  }

  #scrape(ctx: PluginContext, url: string, timeoutMs: number): Scrape {
    let byUrl = this.#scrapes.get(ctx.signal);
    if (byUrl === undefined) this.#scrapes.set(ctx.signal, (byUrl = new Map()));
    let scrape = byUrl.get(url);
    if (scrape === undefined) {
      scrape = (async () => {
        try {
          const res = await request(url, { dispatcher: this.#agent, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]) });
          if (res.statusCode !== 200) {
            await res.body.dump();
            return new Error(`${url} answered HTTP ${res.statusCode}`);
          }
          return familyTotals(await res.body.text());
        } catch (e: unknown) {
          const err = e as { code?: string; name?: string; message?: string };
          return new Error(`${url}: ${err.code ?? err.name ?? err.message ?? String(e)}`);
        }
      })();
      byUrl.set(url, scrape);
    }
    return scrape;
  }

  async getMetric(ctx: PluginContext & Partial<MetricsProviderExtras>, pool: AgentPool, metricType: string): Promise<number | undefined> {
    if (ctx.cluster === undefined) throw new Error('pods: no cluster view in the context');
    const type = metricKey(metricType);
    const port = setting(ctx.config, 'port', 9090, isPort);
    const path = setting(ctx.config, 'path', '/metrics', isString);
    const timeoutMs = parseDuration(setting(ctx.config, 'timeout', '2s', isString));
    const names = ctx.config['names'];
    const override = typeof names === 'object' && names !== null ? Object.entries(names).find(([k]) => metricKey(k) === type)?.[1] : undefined;
    const family = typeof override === 'string' ? override : `neuronetes_${snakeName(type)}`;
    const aggs = ctx.config['aggregations'];
    const agg = typeof aggs === 'object' && aggs !== null ? Object.entries(aggs).find(([k]) => metricKey(k) === type)?.[1] : undefined;
    const how = agg === 'sum' || agg === 'max' || agg === 'min' || agg === 'avg' ? agg : metricKind(type, new Map()) === 'additive' ? 'sum' : 'max';

    const pods = ctx.cluster.podsOfPool(pool.metadata.namespace ?? 'default', pool.metadata.name).filter((p) => isActivePod(p) && podIp(p) !== undefined);
    if (pods.length === 0) return undefined;
    const results = await Promise.all(pods.map((p) => this.#scrape(ctx, `http://${podIp(p) as string}:${port}${path}`, timeoutMs)));
    const failures = results.filter((r): r is Error => r instanceof Error);
    if (failures.length === results.length) throw new Error(`no pod of ${pool.metadata.name} could be scraped: ${failures.map((f) => f.message).join('; ')}`);
    const values = results.flatMap((r) => (r instanceof Error ? [] : r.has(family) ? [r.get(family) as number] : []));
    return aggregate(values, how);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

export const podsProvider = new PodsMetricsProvider();
registerMetricsProvider(podsProvider);
