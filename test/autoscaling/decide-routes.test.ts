/** The decision endpoints end to end on app.inject(): behaviour over time, errors, state, trace, metrics. */
import t from 'tap';
import { InMemoryStateStore, type PoolAutoscalerState, type PoolRef } from '../../src/autoscaling/autoscaler-state.ts';
import { PoolSpecError, resolveBehavior } from '../../src/autoscaling/scaling-rules.ts';
import { registerAutoscaler, registerMetricsProvider } from '../../src/plugins/registry.ts';
import type { PluginContext } from '../../src/plugins/types.ts';
import { clusterWith, pool, STATIC_ONLY, T0, testApp } from './helpers.ts';

registerAutoscaler({
  name: () => 'test-boom',
  getMetricNames: () => [],
  calculateReplicas: () => {
    throw new Error('boom');
  },
});
registerAutoscaler({ name: () => 'test-slow', getMetricNames: () => [], calculateReplicas: () => new Promise<number>(() => undefined) });
registerAutoscaler({ name: () => 'test-negative', getMetricNames: () => [], calculateReplicas: () => -3 });
registerAutoscaler({
  name: () => 'test-fixed',
  getMetricNames: () => [],
  priority: () => 300,
  calculateReplicas: (ctx: PluginContext) => ctx.config['replicas'] as number,
});
registerMetricsProvider({
  name: () => 'test-broken',
  priority: () => 500,
  listMetrics: () => ['queue_depth'],
  getMetric: () => {
    throw new Error('backend down');
  },
});
registerMetricsProvider({ name: () => 'test-below-zero', priority: () => 500, listMetrics: () => ['queue_depth'], getMetric: () => -95 });

const TEST_PLUGINS_OFF = [
  { name: 'test-boom', enabled: false },
  { name: 'test-slow', enabled: false },
  { name: 'test-negative', enabled: false },
  { name: 'test-fixed', enabled: false },
];
const BASE = {
  ...STATIC_ONLY,
  'autoscaler-plugins': [...STATIC_ONLY['autoscaler-plugins'], ...TEST_PLUGINS_OFF],
  'metrics-provider-plugins': [
    ...STATIC_ONLY['metrics-provider-plugins'],
    { name: 'test-broken', enabled: false },
    { name: 'test-below-zero', enabled: false },
  ],
};

interface Reply {
  desiredReplicas: number;
  currentReplicas: number;
  reason: string;
  message: string;
  stages: { stage: string; input: number; output: number; reason: string }[];
  metrics: { type: string; status: string; value: number | null; reason?: string; samples?: number; source: string | null }[];
  recommendations: { plugin: string; status: string; replicas: number | null; chosen: boolean; error?: string }[];
  combine: { chosen: string | null };
  nextScaleUpAt: string | null;
  nextScaleDownAt: string | null;
}

t.test('the embedded default decides from pool annotations', async (t) => {
  const { app } = await testApp(BASE);
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/autoscaler/pools/agents/code-assistant' });
  t.equal(res.statusCode, 200);
  const d = res.json<Reply>();
  t.equal(d.currentReplicas, 2);
  t.equal(d.desiredReplicas, 4, 'tokens-in-queue 1800 / 500 per replica');
  t.same(
    d.metrics.map((m) => [m.type, m.status, m.source]),
    [
      ['tokens-in-queue', 'ok', 'static'],
      ['ttft-p95', 'ok', 'static'],
    ],
  );
  t.same(
    d.stages.map((s) => s.stage),
    ['raw', 'tolerance', 'min/max', 'stabilization', 'rate-limits', 'cooldown', 'capacity'],
  );
  const trace = (await app.inject({ method: 'GET', url: '/debug/plugins/autoscaler/trace?pool=agents/code-assistant' })).json<{
    count: number;
    decisions: Reply[];
  }>();
  t.equal(trace.count, 1);
  t.equal(trace.decisions[0]?.desiredReplicas, 4);
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /neuronetes_autoscaler_desired_replicas\{pool="agents\/code-assistant"\} 4/);
  t.match(metrics, /neuronetes_autoscaler_decisions_total\{pool="agents\/code-assistant",reason="Recommended"\} 1/);
});

t.test('dry runs record nothing; request metrics override providers; ScaleUpLimit', async (t) => {
  const { app } = await testApp(BASE);
  t.teardown(() => app.close());
  const res = await app.inject({
    method: 'POST',
    url: '/autoscaler/decide',
    payload: { pool: { namespace: 'agents', name: 'support-bot' }, metrics: { queue_depth: 95 }, dryRun: true },
  });
  const d = res.json<Reply>();
  t.equal(d.desiredReplicas, 7, 'wants 10, HPA default allows max(3+4, 3×2)');
  t.equal(d.reason, 'ScaleUpLimit');
  t.equal(d.metrics.find((m) => m.type === 'queue-depth')?.source, 'request');
  const trace = (await app.inject({ method: 'GET', url: '/debug/plugins/autoscaler/trace' })).json<{ count: number }>();
  t.equal(trace.count, 0, 'no trace for a dry run');
  const get = await app.inject({ method: 'GET', url: '/autoscaler/pools/agents/support-bot?currentReplicas=5&now=2030-01-01T00:00:00Z&dryRun=true' });
  t.equal(get.json<Reply>().currentReplicas, 5);
});

t.test('bad requests', async (t) => {
  const { app } = await testApp(BASE);
  t.teardown(() => app.close());
  const post = (payload: unknown) =>
    app.inject({
      method: 'POST',
      url: '/autoscaler/decide',
      headers: { 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  t.equal((await post('{"pool": ')).statusCode, 400, 'malformed JSON');
  t.equal(
    (await post({ pool: { namespace: 'agents', name: 'support-bot' }, metrics: { 'queue-depth': '95' } })).statusCode,
    400,
    'a metric value that is a string',
  );
  t.equal((await post({ pool: { namespace: 'agents', name: 'support-bot' }, currentReplicas: -1 })).statusCode, 400, 'negative replicas');
  t.equal((await post({ pool: { namespace: 'agents', name: 'support-bot' }, now: 'yesterday' })).statusCode, 400, 'now that is not RFC 3339');
  t.equal((await post({ pool: { namespace: 'agents', name: 'support-bot' }, now: '2030-02-31T00:00:00Z' })).statusCode, 400, 'an impossible date');
  t.equal((await post({ pool: { namespace: 'agents' } })).statusCode, 400, 'a reference without a name');
  const missing = await post({ pool: { namespace: 'agents', name: 'nope' } });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json<{ code: string }>().code, 'NN_UNKNOWN_POOL');
  t.equal((await app.inject({ method: 'GET', url: '/autoscaler/pools/agents/nope' })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/autoscaler/pools/agents/support-bot?currentReplicas=lots' })).statusCode, 400);
});

t.test('an inline pool with an invalid target and a custom metric', async (t) => {
  const { app } = await testApp({ ...BASE, autoscaler: { metricKinds: { 'gpu-temp': 'level' } } });
  t.teardown(() => app.close());
  const p = pool('inline', {
    minReplicas: 1,
    maxReplicas: 10,
    autoscaling: {
      metrics: [
        { type: 'gpu-temp', target: '70' },
        { type: 'queue-depth', target: 'lots' },
      ],
    },
  });
  const d = (
    await app.inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool: p, currentReplicas: 2, metrics: { 'gpu-temp': 105, 'queue-depth': 3 } } })
  ).json<Reply>();
  t.equal(d.desiredReplicas, 3, 'level: ceil(2 × 105/70)');
  t.equal(d.metrics[1]?.status, 'invalid');
  t.match(d.metrics[1]?.reason, /invalid target/);
});

t.test('stabilization: a new pool does not scale down inside the window; later it does', async (t) => {
  const { app, clock } = await testApp(BASE);
  t.teardown(() => app.close());
  const p = pool('calm', { minReplicas: 1, maxReplicas: 20, autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } });
  const decide = () =>
    app
      .inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool: p, currentReplicas: 10, metrics: { 'queue-depth': 20 } } })
      .then((r) => r.json<Reply>());
  const first = await decide();
  t.equal(first.desiredReplicas, 10);
  t.equal(first.reason, 'ScaleDownStabilized');
  t.equal(first.nextScaleDownAt, new Date(T0 + 300_000).toISOString());
  clock.now = T0 + 301_000;
  const later = await decide();
  t.equal(later.desiredReplicas, 2);
});

t.test('tolerance holds small changes', async (t) => {
  const { app } = await testApp(BASE);
  t.teardown(() => app.close());
  const p = pool('steady', { autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } });
  const d = (
    await app.inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool: p, currentReplicas: 10, metrics: { 'queue-depth': 105 } } })
  ).json<Reply>();
  t.equal(d.desiredReplicas, 10);
  t.equal(d.reason, 'WithinTolerance');
});

t.test('cooldown after a real scale event, and ScaleDownLimit', async (t) => {
  const { app, clock } = await testApp(BASE);
  t.teardown(() => app.close());
  const p = pool('cool', {
    autoscaling: {
      metrics: [{ type: 'queue-depth', target: '10' }],
      behavior: { scaleDown: { stabilizationWindow: '0s', maxChangeAbsolute: 1, periodSeconds: 60 } },
      cooldownPeriod: '2m',
    },
  });
  const decide = (current: number, q: number) =>
    app
      .inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool: p, currentReplicas: current, metrics: { 'queue-depth': q } } })
      .then((r) => r.json<Reply>());
  t.equal((await decide(5, 50)).desiredReplicas, 5);
  clock.now = T0 + 10_000;
  const cooling = await decide(8, 30);
  t.equal(cooling.desiredReplicas, 8, 'the pool went 5 → 8: no scale-down for 2m');
  t.equal(cooling.reason, 'Cooldown');
  t.equal(cooling.nextScaleDownAt, new Date(T0 + 130_000).toISOString());
  clock.now = T0 + 200_000;
  const limited = await decide(8, 30);
  t.equal(limited.desiredReplicas, 7, 'maxChangeAbsolute 1 per 60 s');
  t.equal(limited.reason, 'ScaleDownLimit');
});

t.test('averaging windows and stale metrics', async (t) => {
  const { app, clock } = await testApp({
    ...BASE,
    'metrics-provider-plugins': [...BASE['metrics-provider-plugins'].filter((p) => p.name !== 'test-broken'), { name: 'test-broken', enabled: true }],
  });
  t.teardown(() => app.close());
  const p = pool('avg', { autoscaling: { metrics: [{ type: 'queue-depth', target: '10', averagingWindow: '1m' }] } });
  const decide = (q?: number) =>
    app
      .inject({
        method: 'POST',
        url: '/autoscaler/decide',
        payload: { pool: p, currentReplicas: 10, ...(q !== undefined ? { metrics: { 'queue-depth': q } } : {}) },
      })
      .then((r) => r.json<Reply>());
  await decide(100);
  clock.now = T0 + 30_000;
  const avg = await decide(300);
  t.equal(avg.metrics[0]?.value, 200, 'mean of 100 and 300');
  t.equal(avg.metrics[0]?.samples, 2);
  clock.now = T0 + 45_000;
  const stale = await decide();
  t.equal(stale.metrics[0]?.status, 'stale', 'the provider failed; the window still has samples');
  t.match(stale.metrics[0]?.reason, /backend down/);
  clock.now = T0 + 200_000;
  const failed = await decide();
  t.equal(failed.metrics[0]?.status, 'failed');
  t.equal(failed.reason, 'MetricsUnavailable');
  t.equal(failed.desiredReplicas, 10, 'never collapses to minReplicas because the source is down');
});

t.test('plugin failures, invalid answers, timeouts and combine policies', async (t) => {
  // PluginPass deadlines are unref'd timers; with app.inject() nothing else keeps the loop alive.
  const keepAlive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const cfg = (policy: string, plugins: Record<string, unknown>[]) => ({
    ...BASE,
    autoscaler: { combinePolicy: policy, requestBudget: '1s' },
    'autoscaler-plugins': [{ name: 'slo', enabled: false }, ...TEST_PLUGINS_OFF.filter((p) => !plugins.some((q) => q['name'] === p.name)), ...plugins],
  });
  const payload = { pool: { namespace: 'agents', name: 'support-bot' }, metrics: { 'queue-depth': 40, 'concurrent-sessions': 100 }, dryRun: true };

  const isolated = await testApp(cfg('max', [{ name: 'test-boom' }, { name: 'test-slow', timeout: '50ms' }, { name: 'test-negative' }]));
  const d = (await isolated.app.inject({ method: 'POST', url: '/autoscaler/decide', payload })).json<Reply>();
  await isolated.app.close();
  const byName = Object.fromEntries(d.recommendations.map((r) => [r.plugin, r]));
  t.equal(byName['test-boom']?.status, 'failed');
  t.equal(byName['test-boom']?.error, 'boom');
  t.equal(byName['test-slow']?.status, 'timeout');
  t.equal(byName['test-negative']?.status, 'failed');
  t.equal(d.combine.chosen, 'multi-metric');
  t.equal(d.desiredReplicas, 4, 'queue-depth 40 / 10');

  const min = await testApp(cfg('min', [{ name: 'test-fixed', config: { replicas: 3 } }]));
  t.equal((await min.app.inject({ method: 'POST', url: '/autoscaler/decide', payload })).json<Reply>().combine.chosen, 'test-fixed');
  await min.app.close();
  const first = await testApp(cfg('first', [{ name: 'test-fixed', config: { replicas: 6 } }]));
  const f = (await first.app.inject({ method: 'POST', url: '/autoscaler/decide', payload })).json<Reply>();
  t.equal(f.combine.chosen, 'test-fixed', 'the highest priority that answers');
  t.equal(f.desiredReplicas, 6);
  await first.app.close();

  const failing = await testApp(cfg('max', [{ name: 'test-boom', failurePolicy: 'Fail' }]));
  const res = await failing.app.inject({ method: 'POST', url: '/autoscaler/decide', payload });
  await failing.app.close();
  t.equal(res.statusCode, 500);
  t.equal(res.json<{ code: string }>().code, 'NN_PLUGIN_CHAIN_FAILED');

  const none = await testApp({
    ...cfg('max', []),
    'autoscaler-plugins': [{ name: 'multi-metric', enabled: false }, { name: 'slo', enabled: false }, ...TEST_PLUGINS_OFF],
  });
  const n = (await none.app.inject({ method: 'POST', url: '/autoscaler/decide', payload })).json<Reply>();
  await none.app.close();
  t.equal(n.reason, 'NoRecommendation');
  t.equal(n.desiredReplicas, 3);
});

/** A store that yields between load and save, so unserialized decisions would lose each other's writes. */
class SlowStore extends InMemoryStateStore {
  override async load(p: PoolRef): Promise<PoolAutoscalerState | undefined> {
    await new Promise((r) => setImmediate(r));
    return super.load(p);
  }
  override async save(p: PoolRef, s: PoolAutoscalerState): Promise<void> {
    await new Promise((r) => setImmediate(r));
    return super.save(p, s);
  }
}

t.test('concurrent decisions for one pool are serialized', async (t) => {
  const store = new SlowStore();
  const { app } = await testApp(BASE, { store });
  t.teardown(() => app.close());
  const payload = { pool: { namespace: 'agents', name: 'support-bot' }, metrics: { 'queue-depth': 40 } };
  await Promise.all(Array.from({ length: 20 }, () => app.inject({ method: 'POST', url: '/autoscaler/decide', payload })));
  const state = await store.load({ namespace: 'agents', name: 'support-bot' });
  t.equal(state?.recommendations.length, 21, 'the first-seen record and one per decision');
});

t.test('state survives a restart through the pool status', async (t) => {
  const p = pool('persisted', { minReplicas: 1, maxReplicas: 50, autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } });
  const saved: string[] = [];
  const { ClusterStateStore } = await import('../../src/autoscaling/autoscaler-state.ts');
  const cluster = clusterWith([p]);
  const first = await testApp(BASE, { cluster });
  const store = new ClusterStateStore({ cluster: () => first.app.neuronetes.cluster.view(), persist: async (_pool, encoded) => void saved.push(encoded) });
  await first.app.close();
  const run1 = await testApp(BASE, { cluster, store });
  await run1.app.inject({
    method: 'POST',
    url: '/autoscaler/decide',
    payload: { pool: { namespace: 'test', name: 'persisted' }, currentReplicas: 2, metrics: { 'queue-depth': 40 } },
  });
  await run1.app.close();
  t.equal(saved.length, 1);

  const restarted = await testApp(BASE, { cluster: clusterWith([{ ...p, status: { autoscalerState: saved[0] as string } }]) });
  restarted.clock.now = T0 + 5_000;
  const d = (
    await restarted.app.inject({
      method: 'POST',
      url: '/autoscaler/decide',
      payload: { pool: { namespace: 'test', name: 'persisted' }, currentReplicas: 4, metrics: { 'queue-depth': 200 } },
    })
  ).json<Reply>();
  await restarted.app.close();
  t.equal(d.desiredReplicas, 6, 'the 2 → 4 scale 5 s ago counts: max(2+4, 2×2)');
  t.equal(d.reason, 'ScaleUpLimit');
});

interface ErrorReply {
  code: string;
  message: string;
}

t.test('scale from zero on an additive metric: ceil(95 / 10) = 10, then the scale-up limit gives 4', async (t) => {
  const { app } = await testApp(BASE);
  t.teardown(() => app.close());
  const p = pool('waking', { minReplicas: 0, maxReplicas: 20, autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } });
  for (const dryRun of [true, false]) {
    const res = await app.inject({
      method: 'POST',
      url: '/autoscaler/decide',
      payload: { pool: p, currentReplicas: 0, metrics: { 'queue-depth': 95 }, dryRun },
    });
    t.equal(res.statusCode, 200, `dryRun ${dryRun}: no 500`);
    const d = res.json<Reply & { metrics: { ratio: number | null; replicas: number | null }[] }>();
    t.same([d.desiredReplicas, d.reason], [4, 'ScaleUpLimit']);
    t.match(d.metrics[0], { status: 'no-ratio', ratio: null, replicas: 10, value: 95, reason: /no usage ratio at 0 replicas/ });
  }
  const idle = await app.inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool: p, currentReplicas: 0, metrics: { 'queue-depth': 0 } } });
  t.equal(idle.statusCode, 200, '0 / (10 × 0) is no NaN in the reply');
  t.same([idle.json<Reply>().desiredReplicas, idle.json<Reply>().metrics[0]?.status], [0, 'no-ratio']);
  // A value without a ratio is no unavailable metric.
  t.notMatch((await app.inject({ url: '/metrics' })).body, /neuronetes_autoscaler_metric_unavailable_total\{pool="test\/waking"/);
});

t.test('zero replicas under minReplicas > 0: the pool goes to its floor (HPA would call scaling disabled)', async (t) => {
  const { app } = await testApp(BASE);
  t.teardown(() => app.close());
  const p = pool('floored', { minReplicas: 2, maxReplicas: 20, autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } });
  const res = await app.inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool: p, currentReplicas: 0, metrics: { 'queue-depth': 95 } } });
  t.equal(res.statusCode, 200);
  const d = res.json<Reply>();
  t.same([d.desiredReplicas, d.reason], [2, 'TooFewReplicas']);
  t.match(d.message, /current 0 is below minReplicas 2/);
});

t.test('metric values and replica counts that are not quantities are refused, naming the key', async (t) => {
  const { app } = await testApp(BASE);
  t.teardown(() => app.close());
  const post = (payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool: { namespace: 'agents', name: 'support-bot' }, ...payload } });
  const negative = await post({ metrics: { 'queue-depth': -95 } });
  t.equal(negative.statusCode, 400);
  t.match(negative.json<ErrorReply>().message, /metrics\/queue-depth must be >= 0/);
  const huge = await post({ currentReplicas: 1e308 });
  t.equal(huge.statusCode, 400);
  t.match(huge.json<ErrorReply>().message, /currentReplicas must be <= 2147483647/);
  const get = await app.inject({ method: 'GET', url: '/autoscaler/pools/agents/support-bot?currentReplicas=9999999999' });
  t.equal(get.statusCode, 400);
  t.match(get.json<ErrorReply>().message, /currentReplicas must be <= 2147483647/);
  const fromProvider = await testApp({
    ...BASE,
    'metrics-provider-plugins': [...BASE['metrics-provider-plugins'].filter((p) => p.name !== 'test-below-zero'), { name: 'test-below-zero', enabled: true }],
  });
  t.teardown(() => fromProvider.app.close());
  const below = (await fromProvider.app.inject({ url: '/autoscaler/pools/agents/support-bot?dryRun=true' })).json<Reply>();
  t.match(
    below.metrics.find((m) => m.type === 'queue-depth'),
    { status: 'failed', value: null, reason: /returned -95; expected a finite number >= 0 or undefined/ },
    'a provider answering -95 fails the metric',
  );
  const typo = await post({ metrics: { 'queue-dept': 95 } });
  t.equal(typo.statusCode, 400);
  t.same(typo.json<ErrorReply>(), {
    statusCode: 400,
    code: 'NN_BAD_REQUEST',
    error: 'Bad Request',
    message: 'metrics: unknown metric "queue-dept"; this pool reads concurrent-sessions, queue-depth',
  });
  const twice = await post({ metrics: { 'queue-depth': 95, queue_depth: 5 } });
  t.equal(twice.statusCode, 400);
  t.match(twice.json<ErrorReply>().message, /"queue_depth" names queue-depth a second time/);
  t.equal((await post({ metrics: { queue_depth: 95 } })).statusCode, 200, 'snake case still names the metric');
  const trace = (await app.inject({ url: '/debug/plugins/autoscaler/trace?pool=agents/support-bot' })).json<{ count: number }>();
  t.equal(trace.count, 1, 'nothing refused was recorded');
});

t.test('durations past their bounds: a clear 400 naming the pool and field, never a 500', async (t) => {
  const overflow = pool('frozen', { autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }], cooldownPeriod: '999999999999h' } });
  const { app } = await testApp(BASE, { cluster: clusterWith([overflow]) });
  t.teardown(() => app.close());
  const stored = await app.inject({ url: '/autoscaler/pools/test/frozen' });
  t.equal(stored.statusCode, 400, 'a stored pool the CRD of old accepted');
  t.equal(stored.json<ErrorReply>().message, 'AgentPool test/frozen: spec.autoscaling.cooldownPeriod: "999999999999h" is longer than the 24h allowed');
  // Snapshots and requests are schema-checked before; a pool from the API server stored under an older CRD is not.
  const defaults = { tolerance: { scaleUp: 0.1, scaleDown: 0.1 }, selectPolicy: { scaleUp: 'Max', scaleDown: 'Max' } } as const;
  t.throws(
    () => resolveBehavior({ behavior: { scaleDown: { periodSeconds: 1e12 } } }, defaults),
    new PoolSpecError('autoscaling.behavior.scaleDown.periodSeconds', '1000000000000 is more than the 1800 allowed'),
  );
  const inline = (autoscaling: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool: pool('inline', { autoscaling }), metrics: { 'queue-depth': 5 } } });
  const window = await inline({ metrics: [{ type: 'queue-depth', target: '10', averagingWindow: '2h' }] });
  t.equal(window.statusCode, 400);
  t.equal(window.json<ErrorReply>().message, 'AgentPool test/inline: spec.autoscaling.metrics[0].averagingWindow: "2h" is longer than the 1h allowed');
  const stab = await inline({ metrics: [{ type: 'queue-depth', target: '10' }], behavior: { scaleDown: { stabilizationWindow: '9'.repeat(400) + 'h' } } });
  t.equal(stab.statusCode, 400);
  t.match(stab.json<ErrorReply>().message, /spec\.autoscaling\.behavior\.scaleDown\.stabilizationWindow: "9+h" is longer than the 1h allowed/);
  const period = await inline({ metrics: [{ type: 'queue-depth', target: '10' }], behavior: { scaleUp: { periodSeconds: 1e12 } } });
  t.equal(period.statusCode, 400);
  t.match(period.json<ErrorReply>().message, /periodSeconds must be <= 1800/);
  const atBounds = await inline({
    metrics: [{ type: 'queue-depth', target: '10', averagingWindow: '1h' }],
    cooldownPeriod: '24h',
    behavior: { scaleUp: { periodSeconds: 1800, stabilizationWindow: '1h' } },
  });
  t.equal(atBounds.statusCode, 200, 'the bounds themselves are fine');
});
