/** Each harness holds a plugin to what the service holds it to: config, deadline, answer shape and range. */
import t from 'tap';
import { Type } from 'typebox';
import { definePlugin, SKIP, stateKey, type Guardrail, type SchedulerPlugin } from 'neuronetes';
import {
  agentPool,
  clusterView,
  ConfigError,
  gpuNode,
  MalformedAnswerError,
  model,
  pod,
  PluginTimeoutError,
  runAutoscaler,
  runFilter,
  runGuardrail,
  runLoader,
  runMetrics,
  runScore,
} from 'neuronetes/testing';

const nodes = [
  gpuNode({ name: 'a100', product: 'NVIDIA-A100-SXM4-80GB' }),
  gpuNode({ name: 'h100', product: 'NVIDIA-H100-80GB-HBM3' }),
  gpuNode({ name: 'l4', product: 'NVIDIA-L4', gpus: 1 }),
];
const chat = agentPool({ name: 'chat', gpu: { count: 1, type: 'H100' } });
const p = pod({ name: 'p', pool: 'chat', gpus: 1 });

const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/** Keeps nodes whose product names the pool's GPU type; the type is worked out once per call. */
const wanted = stateKey<string>('test/wanted');
const byProduct = definePlugin({
  type: 'scheduler',
  name: 'by-product',
  config: Type.Object({ mode: Type.Union([Type.Literal('strict'), Type.Literal('lenient')], { default: 'strict' }) }, { additionalProperties: false }),
  create: (config) => ({
    preFilter: (ctx, _pod, pool) => {
      const type = pool?.spec.gpuRequirements?.type;
      if (type === undefined) return SKIP;
      ctx.state.write(wanted, type);
      return undefined;
    },
    filter: (ctx, _pod, node) => {
      const product = node.metadata.labels?.['nvidia.com/gpu.product'] ?? '';
      if (product.includes(ctx.state.read(wanted) ?? '?')) return true;
      return config.mode === 'lenient' ? { passed: false, reason: `has ${product}` } : { passed: false, reason: `has ${product}`, unresolvable: true };
    },
  }),
});

t.test('runFilter: verdicts and reasons per node; the pool found from the pod label; preFilter state shared with filter', async (t) => {
  t.same(await runFilter(byProduct, { pod: p, nodes, cluster: clusterView({ nodes, pools: [chat] }) }), [
    { node: 'a100', passed: false, reason: 'has NVIDIA-A100-SXM4-80GB', unresolvable: true },
    { node: 'h100', passed: true, unresolvable: false },
    { node: 'l4', passed: false, reason: 'has NVIDIA-L4', unresolvable: true },
  ]);
  t.match(
    await runFilter(byProduct, { pod: p, pool: chat, nodes, config: { mode: 'lenient' } }),
    [{ node: 'a100', unresolvable: false }],
    'config reaches create()',
  );
  const plain: SchedulerPlugin = { name: () => 'plain', filter: () => false };
  t.same(
    await runFilter(plain, { pod: p, nodes: nodes.slice(0, 1) }),
    [{ node: 'a100', passed: false, reason: 'rejected by plain', unresolvable: false }],
    'a guide-style instance; false as the service words it',
  );
});

t.test('runFilter honours preFilter SKIP and gives each run its own CycleState', async (t) => {
  let asked = 0;
  const seen = new Set<unknown>();
  const plugin = definePlugin({
    type: 'scheduler',
    name: 'skipper',
    create: () => ({
      preFilter: (ctx, _pod, pool) => (seen.add(ctx.state), pool === undefined ? SKIP : undefined),
      filter: (ctx) => (seen.add(ctx.state), asked++, false),
    }),
  });
  const all = await runFilter(plugin, { pod: pod({ name: 'loner' }), nodes });
  t.equal(asked, 0, 'filter() asked about no node');
  t.ok(
    all.every((a) => a.passed),
    'SKIP passes every node',
  );
  await runFilter(plugin, { pod: p, pool: chat, nodes });
  t.equal(asked, 3);
  t.equal(seen.size, 2, 'one CycleState per run, shared by preFilter and filter');
});

t.test('a bad config throws the service’s ConfigError, naming the plugin, key, value and allowed values', async (t) => {
  await t.rejects(
    runFilter(byProduct, { pod: p, pool: chat, nodes, config: { mode: 'bogus' } }),
    new ConfigError('invalid config: scheduler-plugins "by-product": config.mode is "bogus"; allowed values: "strict", "lenient"'),
  );
  await t.rejects(runFilter(byProduct, { pod: p, pool: chat, nodes, config: { mdoe: 'strict' } }), {
    name: 'ConfigError',
    message: /config\.mdoe is not a setting of this plugin; known keys: mode/,
  });
  const needy = definePlugin({
    type: 'scheduler',
    name: 'needy',
    defaults: { needs: { key: 'url', why: 'where to ask' } },
    config: Type.Object({ url: Type.String({ default: '' }) }),
    create: () => ({ filter: () => true }),
  });
  await t.rejects(runFilter(needy, { pod: p, nodes }), {
    name: 'ConfigError',
    message: 'scheduler plugin "needy" is off until config.url is set (where to ask)',
  });
  await t.rejects(runFilter({ name: () => 'Bad Name', filter: () => true }, { pod: p, nodes }), { name: 'PluginRegistrationError' });
  await t.rejects(
    runFilter(
      definePlugin({
        type: 'guardrail',
        name: 'g',
        create: () => ({ check: () => ({ passed: true, action: 'allow' as const }), getType: () => 'g' }),
      }) as never,
      { pod: p, nodes },
    ),
    TypeError,
  );
});

t.test('runFilter: deadlines, thrown errors and malformed answers reject', async (t) => {
  const slow = definePlugin({ type: 'scheduler', name: 'slow', create: () => ({ filter: () => (busy(30), true) }) });
  await t.rejects(runFilter(slow, { pod: p, nodes, timeoutMs: 5 }), PluginTimeoutError, 'a synchronous overrun');
  const hangs = definePlugin({
    type: 'scheduler',
    name: 'hangs',
    defaults: { timeout: '20ms' },
    create: () => ({ filter: () => new Promise<boolean>(() => undefined) }),
  });
  const started = performance.now();
  await t.rejects(
    runFilter(hangs, { pod: p, nodes }),
    { name: 'PluginTimeoutError', message: 'no answer from "hangs" within its 20ms deadline' },
    'the definition’s default timeout',
  );
  t.ok(performance.now() - started < 1000, 'cut off at the deadline');
  const boom = new Error('boom');
  await t.rejects(
    runFilter(
      {
        name: () => 'thrower',
        filter: () => {
          throw boom;
        },
      },
      { pod: p, nodes },
    ),
    boom,
    'the plugin’s own error',
  );
  await t.rejects(runFilter({ name: () => 'odd', filter: () => 'yes' as never }, { pod: p, nodes }), MalformedAnswerError);
});

t.test('runScore: preScore SKIP gives no scores; out-of-range and non-finite scores are RangeErrors naming the node', async (t) => {
  const tiers = definePlugin({
    type: 'scheduler',
    name: 'tiers',
    create: () => ({
      preScore: (_ctx, _pod, pool) => (pool === undefined ? SKIP : undefined),
      score: (_ctx, _pod, node) => (node.metadata.name === 'h100' ? 90 : 10),
    }),
  });
  t.same(await runScore(tiers, { pod: p, pool: chat, nodes }), [
    { node: 'a100', score: 10 },
    { node: 'h100', score: 90 },
    { node: 'l4', score: 10 },
  ]);
  t.same(await runScore(tiers, { pod: pod({ name: 'loner' }), nodes }), [], 'SKIP');
  for (const bad of [101, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    const plugin: SchedulerPlugin = { name: () => 'wild', score: (_c, _p, node) => (node.metadata.name === 'l4' ? bad : 50) };
    await t.rejects(
      runScore(plugin, { pod: p, nodes }),
      { name: 'RangeError', message: `score() for node "l4" returned ${bad}; expected a finite number 0..100` },
      String(bad),
    );
  }
  await t.rejects(
    runScore({ name: () => 'late', score: async () => new Promise<number>((r) => setTimeout(() => r(1), 200)) }, { pod: p, nodes, timeoutMs: 10 }),
    PluginTimeoutError,
  );
  await t.rejects(runScore({ name: () => 'nofilter', filter: () => true }, { pod: p, nodes }), /has no score\(\) method/);
});

t.test('runAutoscaler: the context the service gives; whole, non-negative replica counts only', async (t) => {
  const pool = agentPool({ name: 'q', minReplicas: 2, maxReplicas: 9, replicas: 3, readyReplicas: 2 });
  const echo = definePlugin({
    type: 'autoscaler',
    name: 'echo',
    config: Type.Object({ per: Type.Number({ default: 10, exclusiveMinimum: 0 }) }),
    create: (config) => ({
      getMetricNames: () => ['queue-depth'],
      calculateReplicas: (ctx, _pool, metrics) => {
        if (metrics['queue-depth'] === -1) return ctx.currentReplicas * 10 + ctx.readyReplicas + (ctx.now === 1234 ? 0.5 : 0);
        return Math.ceil((metrics['queue-depth'] ?? 0) / config.per);
      },
    }),
  });
  t.equal(await runAutoscaler(echo, { pool, metrics: { 'queue-depth': 45 } }), 5);
  t.equal(await runAutoscaler(echo, { pool, metrics: { 'queue-depth': 45 }, config: { per: 5 } }), 9);
  t.equal(await runAutoscaler(echo, { pool, metrics: { 'queue-depth': -1 } }), 32, 'current and ready replicas from the pool status');
  t.equal(await runAutoscaler(echo, { pool, metrics: { 'queue-depth': -1 }, currentReplicas: 5, readyReplicas: 4 }), 54);
  await t.rejects(runAutoscaler(echo, { pool, metrics: { 'queue-depth': -1 }, now: 1234 }), {
    name: 'RangeError',
    message: 'calculateReplicas() returned 32.5; expected a whole number of replicas >= 0',
  });
  await t.rejects(runAutoscaler(echo, { pool, metrics: { 'queue-depth': -50 } }), RangeError, 'negative');
  await t.rejects(runAutoscaler(echo, { pool, metrics: {}, config: { per: 0 } }), /config\.per is 0/);
  const stuck = { name: () => 'stuck', getMetricNames: () => [], calculateReplicas: async () => new Promise<number>(() => undefined) };
  await t.rejects(runAutoscaler(stuck, { pool, metrics: {}, timeoutMs: 10 }), PluginTimeoutError);
});

t.test('runGuardrail: the guardrail’s result, checked for shape', async (t) => {
  const words: Guardrail = {
    name: () => 'words',
    getType: () => 'words',
    check: (ctx, req) =>
      req.content.includes(String(ctx.config['word'] ?? 'secret')) ? { passed: false, action: 'block', reason: 'word' } : { passed: true, action: 'allow' },
  };
  t.same(await runGuardrail(words, { request: { content: 'a secret' } }), { passed: false, action: 'block', reason: 'word' });
  t.same(await runGuardrail(words, { request: { content: 'a secret' }, config: { word: 'x' } }), { passed: true, action: 'allow' });
  await t.rejects(runGuardrail({ ...words, name: () => 'sloppy', check: () => ({ passed: true, action: 'ok' }) as never }, { request: { content: '' } }), {
    name: 'MalformedAnswerError',
    message: /^check\(\) returned \{"passed":true,"action":"ok"\}; expected \{passed: boolean, action: allow\|log/,
  });
  await t.rejects(
    runGuardrail({ ...words, name: () => 'slow', check: () => (busy(30), { passed: true, action: 'allow' }) }, { request: { content: '' }, timeoutMs: 5 }),
    PluginTimeoutError,
  );
});

t.test('runLoader: canLoad, load into cachePath, unload; deadlines and shape', async (t) => {
  const calls: string[] = [];
  const loader = definePlugin({
    type: 'model-loader',
    name: 'mem',
    create: () => ({
      canLoad: (_ctx, m) => m.spec.weightsURI.startsWith('mem://'),
      load: (ctx, m, node) => void calls.push(`load ${m.metadata.name} on ${node} into ${ctx.cachePath}`),
      unload: async (ctx, m, node) => void calls.push(`unload ${m.metadata.name} on ${node} from ${ctx.cachePath}`),
    }),
  });
  const m = model({ name: 'tiny', weightsURI: 'hf://x' });
  t.equal(await runLoader(loader, { model: m, op: 'canLoad' }), false);
  t.equal(await runLoader(loader, { model: model({ name: 'tiny', weightsURI: 'mem://x' }), op: 'canLoad' }), true);
  await runLoader(loader, { model: m, op: 'load', cachePath: '/tmp/c/tiny' });
  await runLoader(loader, { model: m, op: 'unload', cachePath: '/tmp/c/tiny', node: 'g2' });
  t.same(calls, ['load tiny on node-1 into /tmp/c/tiny', 'unload tiny on g2 from /tmp/c/tiny']);
  await t.rejects(runLoader(loader, { model: m, op: 'load' }), /load\(\) needs a cachePath/);
  const slow = { name: () => 'slow', canLoad: () => 1 as never, load: () => new Promise<void>(() => undefined), unload: () => undefined };
  await t.rejects(runLoader(slow, { model: m, op: 'load', cachePath: '/tmp/x', timeoutMs: 10 }), PluginTimeoutError);
  await t.rejects(runLoader(slow, { model: m, op: 'canLoad' }), MalformedAnswerError);
});

t.test('runMetrics: a value, no data, and what the service refuses', async (t) => {
  const pool = agentPool({ name: 'q' });
  const provider = definePlugin({
    type: 'metrics-provider',
    name: 'fixed',
    create: () => ({
      listMetrics: () => ['queue_depth', 'ttft-p95', 'broken'],
      getMetric: (ctx, pool, metric) =>
        metric === 'queue-depth' ? Number(ctx.config['base'] ?? 0) + pool.spec.maxReplicas : metric === 'broken' ? -3 : undefined,
    }),
  });
  t.equal(await runMetrics(provider, { pool, metric: 'queue-depth', config: { base: 3 } }), 7, 'snake_case listing, kebab-case asked');
  t.equal(await runMetrics(provider, { pool, metric: 'ttft_p95' }), undefined);
  await t.rejects(runMetrics(provider, { pool, metric: 'broken' }), {
    name: 'MalformedAnswerError',
    message: 'getMetric(broken) returned -3; expected a finite number >= 0 or undefined',
  });
  await t.rejects(runMetrics(provider, { pool, metric: 'tokens-per-second' }), /does not list "tokens-per-second"/);
  const hung = { name: () => 'hung', listMetrics: () => ['queue-depth'], getMetric: () => new Promise<number>(() => undefined) };
  await t.rejects(runMetrics(hung, { pool, metric: 'queue-depth', timeoutMs: 10 }), PluginTimeoutError);
});
