import t from 'tap';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import { namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const picky: SchedulerPlugin = {
  name: () => 'picky',
  priority: () => 7,
  filter: (_c, _p, n) => n.metadata.name !== 'n2' || { passed: false, reason: 'needs 2×A100 80Gi, node has 1 free' },
  score: () => 70,
};
const cluster = { nodes: [node('n1'), node('n2')], pods: [], agentPools: [], agentClasses: [], models: [] };

t.test('/debug/plugins lists plugins with settings and live stats', async (t) => {
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [picky] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'picky', weight: 2, timeout: '250ms', failurePolicy: 'Fail' }] },
  });
  await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('a'), ['n1', 'n2']) });
  const body = (await app.inject('/debug/plugins')).json();
  t.match(body.scheduler[0], {
    name: 'picky',
    priority: 7,
    weight: 2,
    enabled: true,
    mode: 'enforce',
    failurePolicy: 'Fail',
    timeoutMs: 250,
    source: 'test',
    calls: 2,
    errors: 0,
    timeouts: 0,
  });
  t.type(body.scheduler[0].p50Ms, 'number');
  t.same(body.autoscaler, []);
});

t.test('trace: newest first, filtered by pod, limited, with reasons in words', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [picky] }, cluster });
  for (const name of ['a', 'b', 'c']) await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod(name), ['n1', 'n2']) });
  const all = (await app.inject('/debug/plugins/scheduler/trace')).json();
  t.same(
    all.decisions.map((d: { pod: string }) => d.pod),
    ['agents/c', 'agents/b', 'agents/a'],
  );
  const one = (await app.inject('/debug/plugins/scheduler/trace?pod=agents/b')).json();
  t.equal(one.count, 1);
  t.match(one.decisions[0], { verb: 'filter', pod: 'agents/b', mode: 'names', summary: 'kept 1 of 2 nodes; rejected picky: 1' });
  t.same(one.decisions[0].nodes.n2, { kept: false, rejectedBy: 'picky', reason: 'needs 2×A100 80Gi, node has 1 free' });
  t.equal((await app.inject('/debug/plugins/scheduler/trace?limit=2')).json().count, 2);
  const bad = await app.inject('/debug/plugins/schedulr/trace');
  t.equal(bad.statusCode, 404);
  t.match(bad.json(), {
    code: 'NN_NO_TRACE',
    error: 'Not Found',
    message: /no trace of plugin type "schedulr"; traced: scheduler, autoscaler, model-loader, guardrail/,
  });
  const providers = await app.inject('/debug/plugins/metrics-provider/trace');
  t.equal(providers.statusCode, 404, 'metrics providers keep no trace of their own');
  t.match(providers.json().message, /metrics-provider calls show in each autoscaler decision's providers/);
  t.equal((await app.inject('/debug/plugins/scheduler/trace?limit=lots')).statusCode, 400);
});

t.test('/metrics exposes plugin_duration_seconds by plugin_name, and scheduler counters', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [picky] }, cluster });
  await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('a'), ['n1', 'n2']) });
  await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(pod('a'), ['n1']) });
  const text = (await app.inject('/metrics')).body;
  t.match(text, /plugin_duration_seconds_count\{plugin_name="picky",plugin_type="scheduler",phase="filter"\} 1/);
  t.match(text, /plugin_duration_seconds_count\{plugin_name="picky",plugin_type="scheduler",phase="score"\} 1/);
  t.match(text, /neuronetes_scheduler_attempts_total\{verb="filter"\} 1/);
  t.match(text, /neuronetes_scheduler_success_total\{verb="filter"\} 1/);
  t.match(text, /neuronetes_scheduler_latency_seconds_count\{verb="prioritize"\} 1/);
});

t.test('/healthz and /readyz', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  t.same((await app.inject('/healthz')).json(), { status: 'ok' });
  t.same((await app.inject('/readyz')).json(), { status: 'ok', source: 'snapshot' });
});

t.test("structured logs carry the caller's request id, and plugin failures name the plugin", async (t) => {
  const { Writable } = await import('node:stream');
  const { pino } = await import('pino');
  const { buildApp } = await import('../../src/server/app.ts');
  const { SnapshotSource } = await import('../../src/cluster/snapshot-source.ts');
  const { PluginRegistry } = await import('../../src/plugins/registry.ts');
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
  const log = pino({ level: 'info' }, sink);
  const registry = new PluginRegistry();
  registry.register('scheduler', {
    name: () => 'flaky',
    filter: () => {
      throw new Error('cache miss');
    },
  });
  const app = await buildApp({ cluster: new SnapshotSource({ log, objects: cluster }), registry, builtins: false, logger: log });
  t.teardown(() => app.close());
  await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('a'), ['n1']), headers: { 'x-request-id': 'trace-me-42' } });
  t.ok(
    lines.some((l) => l['reqId'] === 'trace-me-42' && l['msg'] === 'request completed'),
    'request id from the header',
  );
  const warn = lines.find((l) => l['plugin'] === 'flaky');
  t.match(warn, { level: 40, pluginType: 'scheduler', phase: 'filter', errors: 1, failurePolicy: 'Ignore', msg: 'plugin failed (1 of 1 calls)' });
});

t.test("trace ?pool= finds the decisions about a pool's pods", async (t) => {
  const { agentPool } = await import('../helpers/cluster-fixtures.ts');
  const { app } = await buildTestApp(t, { plugins: { scheduler: [picky] }, cluster: { ...cluster, agentPools: [agentPool('chat'), agentPool('batch')] } });
  for (const [name, pool] of [
    ['chat-0', 'chat'],
    ['batch-0', 'batch'],
    ['chat-1', 'chat'],
  ]) {
    await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod(name as string, { pool: pool as string }), ['n1']) });
  }
  const chat = (await app.inject('/debug/plugins/scheduler/trace?pool=agents/chat')).json();
  t.same(
    chat.decisions.map((d: { pod: string }) => d.pod),
    ['agents/chat-1', 'agents/chat-0'],
  );
  t.equal((await app.inject('/debug/plugins/scheduler/trace?pool=batch')).json().count, 1, 'a bare pool name matches in any namespace');
});
