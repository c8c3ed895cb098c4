/** The guide's Prometheus metrics provider against a stand-in for Prometheus' query API. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { agentPool, runMetrics } from 'neuronetes/testing';
import { prometheusMetrics } from '../../extenders/examples/prometheus-metrics.ts';

/** Answers each query from `series` by its text; records what was asked. */
async function fakePrometheus(t: Test, series: Record<string, string[]>): Promise<{ url: string; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    asked.push(query);
    if (query.includes('broken')) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', error: 'parse error' }));
      return;
    }
    const result = (series[query] ?? []).map((v) => ({ metric: {}, value: [1_700_000_000, v] }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

const pool = agentPool({ name: 'chat', namespace: 'agents' });

t.test("the guide's query per pool; no series is no data; several are an error", async (t) => {
  const { url, asked } = await fakePrometheus(t, {
    'neuronetes_queue_depth{namespace="agents",pool="chat"}': ['42'],
    'neuronetes_ttft_p95{namespace="agents",pool="chat"}': ['0.4', '0.5'],
    'neuronetes_tokens_per_second{namespace="agents",pool="chat"}': ['NaN'],
  });
  t.equal(await runMetrics(prometheusMetrics, { pool, metric: 'queue-depth', config: { url } }), 42);
  t.same(asked, ['neuronetes_queue_depth{namespace="agents",pool="chat"}']);
  t.equal(await runMetrics(prometheusMetrics, { pool, metric: 'concurrent_sessions', config: { url } }), undefined, 'no series');
  t.equal(await runMetrics(prometheusMetrics, { pool, metric: 'tokens-per-second', config: { url } }), undefined, 'NaN is no data');
  await t.rejects(runMetrics(prometheusMetrics, { pool, metric: 'ttft-p95', config: { url } }), /matched 2 series; expected one/);
});

t.test('off until its url is set; a hung Prometheus is cut off at the deadline', async (t) => {
  await t.rejects(runMetrics(prometheusMetrics, { pool, metric: 'queue-depth' }), { name: 'ConfigError', message: /is off until config\.url is set/ });
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.closeAllConnections());
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await t.rejects(runMetrics(prometheusMetrics, { pool, metric: 'queue-depth', config: { url }, timeoutMs: 50 }), { name: 'PluginTimeoutError' });
});
