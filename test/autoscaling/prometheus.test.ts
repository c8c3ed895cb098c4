/**
 * The prometheus metrics provider against a real Prometheus (the Debian package's binary), started
 * on a free loopback port with a temporary config that scrapes an exporter this test serves; and
 * against upstreams that misbehave (one that never answers, one that errs).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { aggregate, prometheus, renderQuery } from '../../extenders/builtin/metrics/prometheus.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { instanceOf, pool, STATIC_ONLY, testApp } from './helpers.ts';

const log = createLogger('silent');
const supportBot = pool(
  'support-bot',
  { autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } },
  { metadata: { name: 'support-bot', namespace: 'agents' } },
);
const ctx = (signal = AbortSignal.timeout(5000)) => ({ signal, log, config: {} });
/** The provider made from `config`, asked for one metric of support-bot. */
const metric = async (config: Record<string, unknown>, type = 'queue-depth'): Promise<number | undefined> =>
  instanceOf(prometheus, config).getMetric(ctx(), supportBot, type);

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function freePort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

const EXPOSITION = [
  '# TYPE neuronetes_queue_depth gauge',
  'neuronetes_queue_depth{pool="support-bot",shard="a"} 30',
  'neuronetes_queue_depth{pool="support-bot",shard="b"} 15',
  'neuronetes_queue_depth{pool="other",shard="a"} 999',
  '# TYPE neuronetes_ttft_p95 gauge',
  'neuronetes_ttft_p95{pool="support-bot",shard="a"} 0.4',
  'neuronetes_ttft_p95{pool="support-bot",shard="b"} 0.9',
  '',
].join('\n');

t.test('query helpers', async (t) => {
  t.equal(
    renderQuery('neuronetes_{{metric}}{pool="{{pool}}",ns="{{namespace}}"}', supportBot, 'tokens-in-queue'),
    'neuronetes_tokens_in_queue{pool="support-bot",ns="agents"}',
  );
  t.equal(aggregate([1, 2, 3], 'avg'), 2);
  t.equal(aggregate([1, 2, 3], 'min'), 1);
  t.equal(aggregate([], 'sum'), undefined);
  await t.rejects(metric({}), /no config.url/);
  t.throws(
    () => instanceOf(prometheus, { url: 'http://127.0.0.1:1', aggregation: 'median' }),
    /config\.aggregation is "median"; allowed values: "sum", "max", "min", "avg"/,
    'a bad setting fails when the plugin is made',
  );
});

t.test('a real Prometheus', async (t) => {
  if (spawnSync('prometheus', ['--version']).error !== undefined) {
    t.plan(0, 'skipped: the prometheus binary is not installed (Debian package prometheus; `npm test` installs it where it can)');
    return;
  }
  const exporter = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(EXPOSITION);
  });
  const exporterPort = await listen(exporter);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nn-prometheus-'));
  // A generous scrape timeout: on a loaded CI machine a 1s scrape can fail, and a failed scrape marks
  // the series stale, which a query then sees as missing.
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: {scrape_interval: 5s, scrape_timeout: 5s, evaluation_interval: 5s}\nscrape_configs:\n  - job_name: exporter\n    static_configs: [{targets: ['127.0.0.1:${exporterPort}']}]\n`,
  );
  const prom: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'],
    { stdio: 'ignore' },
  );
  t.teardown(async () => {
    const exited = new Promise((r) => prom.once('exit', r));
    if (prom.exitCode === null) prom.kill('SIGTERM');
    await exited;
    await new Promise((r) => exporter.close(r));
  });
  const url = `http://127.0.0.1:${port}`;
  // Wait (bounded) for Prometheus to be up and to have scraped the exporter once.
  let scraped = false;
  for (let i = 0; i < 120 && !scraped; i++) {
    try {
      const res = await request(`${url}/api/v1/query?query=neuronetes_queue_depth`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.body.json()) as { data?: { result?: unknown[] } };
      scraped = (body.data?.result?.length ?? 0) > 0;
    } catch {
      // not listening yet
    }
    if (!scraped) await new Promise((r) => setTimeout(r, 250));
  }
  t.ok(scraped, 'Prometheus scraped the exporter');

  t.equal(await metric({ url }), 45, 'two series of the pool, summed');
  t.equal(await metric({ url, aggregations: { 'ttft-p95': 'max' } }, 'ttft_p95'), 0.9, 'per-metric aggregation');
  t.equal(await metric({ url }, 'tokens-in-queue'), undefined, 'no series: missing, never 0');
  t.equal(await metric({ url, queries: { 'queue-depth': 'max(neuronetes_queue_depth{pool="{{pool}}"})' } }), 30, 'query template override');
  t.equal(await metric({ url, queries: { 'queue-depth': 'scalar(sum(neuronetes_queue_depth))' } }), 1044, 'scalar results');
  await t.rejects(metric({ url, queries: { 'queue-depth': 'sum(' } }), /HTTP 400: bad_data/, 'a bad query is a failed metric with the reason');
  await t.rejects(metric({ url, queries: { 'queue-depth': 'neuronetes_queue_depth[1m]' } }), /matrix/);

  const { app } = await testApp({
    ...STATIC_ONLY,
    'metrics-provider-plugins': [
      { name: 'prometheus', config: { url } },
      { name: 'pods', enabled: false },
    ],
  });
  t.teardown(() => app.close());
  const d = (await app.inject({ method: 'GET', url: '/autoscaler/pools/agents/support-bot?dryRun=true' })).json<{
    desiredReplicas: number;
    metrics: { type: string; value: number | null; status: string; source: string }[];
  }>();
  t.same(
    d.metrics.map((m) => [m.type, m.status, m.value, m.source]),
    [
      ['concurrent-sessions', 'missing', null, 'prometheus'],
      ['queue-depth', 'ok', 45, 'prometheus'],
    ],
  );
  t.equal(d.desiredReplicas, 5, 'ceil(45 / 10), from Prometheus; the missing metric does not block a scale-up');
});

t.test('a Prometheus that never answers fails the metric within the deadline, and the decision holds', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createTcpServer((s) => void sockets.add(s));
  const port = await listen(silent);
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });
  const url = `http://127.0.0.1:${port}`;
  await t.rejects(metric({ url, timeout: '300ms' }), /did not answer/);

  const keepAlive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const { app } = await testApp({
    ...STATIC_ONLY,
    'metrics-provider-plugins': [
      { name: 'prometheus', timeout: '200ms', config: { url } },
      { name: 'pods', enabled: false },
    ],
  });
  t.teardown(() => app.close());
  const d = (await app.inject({ method: 'GET', url: '/autoscaler/pools/agents/support-bot' })).json<{
    desiredReplicas: number;
    reason: string;
    metrics: { status: string; reason?: string }[];
  }>();
  t.equal(d.desiredReplicas, 3, 'holds at the current 3: never collapses to minReplicas');
  t.equal(d.reason, 'MetricsUnavailable');
  t.same(
    d.metrics.map((m) => m.status),
    ['failed', 'failed'],
  );
  t.match(d.metrics[0]?.reason, /timed out|did not answer|deadline/);
});

t.test('a Prometheus that errs', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'TSDB not ready' }));
  });
  const port = await listen(server);
  const html = createServer((_req, res) => res.end('<html>proxy error</html>'));
  const htmlPort = await listen(html);
  t.teardown(async () => {
    await new Promise((r) => server.close(r));
    await new Promise((r) => html.close(r));
  });
  await t.rejects(metric({ url: `http://127.0.0.1:${port}` }), /HTTP 503: unavailable: TSDB not ready/);
  await t.rejects(metric({ url: `http://127.0.0.1:${htmlPort}` }), /not JSON/);
  const closed = await freePort();
  await t.rejects(metric({ url: `http://127.0.0.1:${closed}` }), /cannot query Prometheus.*ECONNREFUSED/);
});
