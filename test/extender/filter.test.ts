import t from 'tap';
import { DEADLINE_STRIDE } from '../../src/plugins/plugin-pass.ts';
import { SKIP, type SchedulerPlugin } from '../../src/plugins/types.ts';
import { agentPool, namesArgs, node, nodesArgs, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

/** Rejects nodes whose `size` label is `small`; hard mismatch when `arch` is not amd64. */
const sizeFilter: SchedulerPlugin = {
  name: () => 'size-filter',
  priority: () => 200,
  filter: (_ctx, _pod, n) => {
    if (n.metadata.labels?.['arch'] === 'arm64') return { passed: false, reason: 'arm64 node, pool needs amd64', unresolvable: true };
    return n.metadata.labels?.['size'] === 'small' ? { passed: false, reason: 'node too small' } : true;
  },
};
/** A plain boolean filter, as in the plugin guide. */
const zoneFilter: SchedulerPlugin = { name: () => 'zone-filter', priority: () => 100, filter: (_c, _p, n) => n.metadata.labels?.['zone'] !== 'bad' };

const nodes = [node('n1', { size: 'big' }), node('n2', { size: 'small' }), node('n3', { arch: 'arm64' }), node('n4', { zone: 'bad' })];
const cluster = { nodes, pods: [], agentPools: [agentPool('chat')], agentClasses: [], models: [] };
const thePod = pod('chat-0', { pool: 'chat' });

t.test('names mode: kept names back, reasons split by resolvability', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [sizeFilter, zoneFilter] }, cluster });
  const res = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2', 'n3', 'n4', 'ghost']) });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.same(body.NodeNames, ['n1']);
  t.equal(body.Nodes, null);
  t.equal(body.Error, '');
  t.same(body.FailedNodes, {
    n2: 'size-filter: node too small',
    n4: 'zone-filter: rejected by zone-filter',
    ghost: "node ghost is not in the extender's node cache yet; it will be considered once the cache has it",
  });
  t.same(body.FailedAndUnresolvableNodes, { n3: 'size-filter: arm64 node, pool needs amd64' });
});

t.test('full-node mode: the kept Node objects come back whole', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [sizeFilter, zoneFilter] } });
  const extra = { ...nodes[0], spec: { podCIDR: '10.0.0.0/24' }, status: { ...nodes[0]?.status, nodeInfo: { kubeletVersion: 'v1.32.6' } } };
  const res = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: nodesArgs(thePod, [extra as never, ...nodes.slice(1)]) });
  const body = res.json();
  t.equal(body.NodeNames, null);
  t.equal(body.Nodes.kind, 'NodeList');
  t.same(body.Nodes.items, [extra], 'unknown fields survive the round trip');
  t.same(Object.keys(body.FailedNodes).sort(), ['n2', 'n4']);
  t.same(Object.keys(body.FailedAndUnresolvableNodes), ['n3']);
});

t.test('a node drops out at its first failing plugin, in priority order', async (t) => {
  const calls: string[] = [];
  const first: SchedulerPlugin = {
    name: () => 'first',
    priority: () => 10,
    filter: (_c, _p, n) => (calls.push(`first:${n.metadata.name}`), n.metadata.name !== 'n1'),
  };
  const second: SchedulerPlugin = { name: () => 'second', priority: () => 5, filter: (_c, _p, n) => (calls.push(`second:${n.metadata.name}`), true) };
  // Config priority overrides the plugin's own: `second` now runs first.
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [first, second] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'second', priority: 50 }] },
  });
  await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2']) });
  t.same(calls, ['second:n1', 'second:n2', 'first:n1', 'first:n2']);
  calls.length = 0;
  const { app: app2 } = await buildTestApp(t, { plugins: { scheduler: [first, second] }, cluster });
  await app2.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2']) });
  t.same(calls, ['first:n1', 'first:n2', 'second:n2'], 'n1 is not shown to the next plugin once rejected');
});

t.test('the chain stops once no node is left', async (t) => {
  let later = 0;
  const none: SchedulerPlugin = { name: () => 'none', priority: () => 10, filter: () => false };
  const after: SchedulerPlugin = { name: () => 'after', priority: () => 1, filter: () => (later++, true) };
  const { app } = await buildTestApp(t, { plugins: { scheduler: [none, after] }, cluster });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2']) })).json();
  t.same(body.NodeNames, [], 'an empty list, never null (null for both would be ambiguous)');
  t.equal(later, 0);
});

t.test('disabled plugins do not run', async (t) => {
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [sizeFilter] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'size-filter', enabled: false }] },
  });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n2']) })).json();
  t.same(body.NodeNames, ['n2']);
});

t.test('shadow mode: runs and is traced, but keeps every node', async (t) => {
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [sizeFilter] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'size-filter', mode: 'shadow' }] },
  });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2']) })).json();
  t.same(body.NodeNames, ['n1', 'n2']);
  t.same(body.FailedNodes, {});
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json();
  t.same(trace.decisions[0].nodes.n2.shadow, [{ plugin: 'size-filter', reason: 'node too small' }]);
  t.equal(trace.decisions[0].plugins[0].mode, 'shadow');
  t.equal(trace.decisions[0].plugins[0].rejected, 1);
});

t.test('plugin exceptions: Ignore rejects the node (passes it when optional), Fail puts the reason in Error', async (t) => {
  const broken: SchedulerPlugin = {
    name: () => 'broken',
    filter: () => {
      throw new Error('label index corrupt');
    },
  };
  const ignore = await buildTestApp(t, { plugins: { scheduler: [broken] }, cluster });
  const rejected = (await ignore.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1']) })).json();
  t.same(rejected.NodeNames, [], 'a node the plugin could not check is not kept');
  t.same(
    rejected.FailedAndUnresolvableNodes,
    { n1: 'broken: could not check this node (failed): label index corrupt' },
    'unresolvable: no preemption for a plugin error',
  );
  t.equal(rejected.Error, '');
  const dbg = (await ignore.app.inject('/debug/plugins')).json();
  t.equal(dbg.scheduler[0].errors, 1);
  t.equal(dbg.scheduler[0].optional, false);

  const optional = await buildTestApp(t, { plugins: { scheduler: [broken] }, cluster, config: { 'scheduler-plugins': [{ name: 'broken', optional: true }] } });
  const okBody = (await optional.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1']) })).json();
  t.same(okBody.NodeNames, ['n1'], 'optional: the failed filter rejects nothing');
  t.equal(okBody.Error, '');

  const fail = await buildTestApp(t, {
    plugins: { scheduler: [broken] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'broken', failurePolicy: 'Fail' }] },
  });
  const res = await fail.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1']) });
  t.equal(res.statusCode, 200, 'domain failures travel in a 200 reply: the scheduler discards other bodies');
  t.match(res.json().Error, /scheduler plugin "broken" failed: label index corrupt/);
  t.same(res.json().NodeNames, []);
});

t.test("a filter answer of the wrong shape is that plugin's error", async (t) => {
  const odd: SchedulerPlugin = { name: () => 'odd', filter: () => 'yes' as never };
  const { app } = await buildTestApp(t, { plugins: { scheduler: [odd] }, cluster, config: { 'scheduler-plugins': [{ name: 'odd', failurePolicy: 'Fail' }] } });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1']) })).json();
  t.match(body.Error, /"odd" failed: filter\(\) returned "yes"/);
});

t.test('preFilter: SKIP spares every per-node call and passes every node; nothing asks node by node', async (t) => {
  const asked: string[] = [];
  const picky = (name: string, plan: (pool: string | undefined) => typeof SKIP | undefined): SchedulerPlugin => ({
    name: () => name,
    preFilter: (_ctx, _pod, pool) => plan(pool?.metadata.name),
    filter: (_c, _p, n) => (asked.push(`${name}:${n.metadata.name}`), false),
  });
  const skipper = picky('skipper', () => SKIP);
  const asker = picky('asker', (pool) => (pool === 'chat' ? undefined : SKIP));
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [skipper, asker] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'skipper', priority: 200 }] },
  });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2']) })).json();
  t.same(asked, ['asker:n1', 'asker:n2'], 'the skipper is asked about no node; the other is asked about each');
  t.same(body.FailedNodes, { n1: 'asker: rejected by asker', n2: 'asker: rejected by asker' });
  const passes = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0].plugins;
  t.match(passes, [
    { plugin: 'skipper', skipped: true, calls: 1, rejected: 0 },
    { plugin: 'asker', calls: 3, rejected: 2 },
  ]);
  t.notOk('skipped' in passes[1], 'a pass that ran is not marked skipped');

  asked.length = 0;
  const noPool = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('web-0'), ['n1', 'n2']) })).json();
  t.same(noPool.NodeNames, ['n1', 'n2'], 'a pod of no pool: both plugins sit out, every node passes');
  t.same(asked, []);
});

t.test("preFilter that throws, times out or answers nonsense is the plugin's error", async (t) => {
  let filtered = 0;
  const hooked = (name: string, preFilter: NonNullable<SchedulerPlugin['preFilter']>): SchedulerPlugin => ({
    name: () => name,
    preFilter,
    filter: () => (filtered++, false),
  });
  const throws = hooked('throws', () => {
    throw new Error('pool index missing');
  });
  const nonsense = hooked('nonsense', () => 'later' as never);
  const hangs = hooked('hangs', (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(undefined))));
  const settings = (failurePolicy: 'Ignore' | 'Fail') => ['throws', 'nonsense', 'hangs'].map((name) => ({ name, failurePolicy, timeout: '50ms' }));

  for (const [name, reason] of [
    ['throws', 'failed): pool index missing'],
    ['nonsense', 'failed): preFilter() returned "later"; expected SKIP'],
    ['hangs', 'timed out): no answer from "hangs"'],
  ] as const) {
    const alone = await buildTestApp(t, {
      plugins: { scheduler: [throws, nonsense, hangs] },
      cluster,
      config: {
        'scheduler-plugins': [
          ...settings('Ignore')
            .filter((s) => s.name !== name)
            .map((s) => ({ ...s, enabled: false })),
          { name, timeout: '50ms' },
        ],
      },
    });
    const body = (await alone.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2']) })).json();
    t.same(body.NodeNames, [], `Ignore: a plugin whose preFilter failed (${name}) answered for no node, so none is kept`);
    t.same(Object.keys(body.FailedAndUnresolvableNodes), ['n1', 'n2']);
    t.ok(String(body.FailedAndUnresolvableNodes.n1).startsWith(`${name}: could not check this node (${reason}`), body.FailedAndUnresolvableNodes.n1);
  }
  const optional = await buildTestApp(t, {
    plugins: { scheduler: [throws, nonsense, hangs] },
    cluster,
    config: { 'scheduler-plugins': settings('Ignore').map((s) => ({ ...s, optional: true })) },
  });
  const body = (await optional.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2']) })).json();
  t.same(body.NodeNames, ['n1', 'n2'], 'Ignore and optional: a plugin whose preFilter failed sits the call out');
  t.equal(filtered, 0);
  const stats = new Map<string, { errors: number; timeouts: number }>(
    (await optional.app.inject('/debug/plugins')).json().scheduler.map((s: { name: string; errors: number; timeouts: number }) => [s.name, s]),
  );
  t.match(Object.fromEntries(stats), { throws: { errors: 1 }, nonsense: { errors: 1 }, hangs: { timeouts: 1 } });
  t.match((await optional.app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0].plugins, [
    { plugin: 'hangs', skipped: true },
    { plugin: 'nonsense', skipped: true },
    { plugin: 'throws', skipped: true },
  ]);

  for (const [name, error] of [
    ['throws', /"throws" failed: pool index missing/],
    ['nonsense', /"nonsense" failed: preFilter\(\) returned "later"; expected SKIP/],
    ['hangs', /"hangs" timed out/],
  ] as const) {
    const others = settings('Ignore')
      .filter((s) => s.name !== name)
      .map((s) => ({ ...s, optional: true }));
    const fail = await buildTestApp(t, {
      plugins: { scheduler: [throws, nonsense, hangs] },
      cluster,
      config: { 'scheduler-plugins': [...others, { name, failurePolicy: 'Fail', timeout: '50ms' }] },
    });
    const failed = (await fail.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1']) })).json();
    t.match(failed.Error, error, `${name} under Fail`);
    t.same(failed.NodeNames, []);
  }
  t.equal(filtered, 0);
});

t.test('timeouts: an async plugin is cut off at its deadline', async (t) => {
  const slow: SchedulerPlugin = {
    name: () => 'slow',
    filter: (ctx) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5_000);
        ctx.signal.addEventListener('abort', () => clearTimeout(timer));
      }),
  };
  const ignore = await buildTestApp(t, { plugins: { scheduler: [slow] }, cluster, config: { 'scheduler-plugins': [{ name: 'slow', timeout: '50ms' }] } });
  const body = (await ignore.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2']) })).json();
  t.same(body.NodeNames, [], 'Ignore: the nodes the timed-out plugin did not answer for are rejected');
  t.same(
    body.FailedAndUnresolvableNodes,
    Object.fromEntries(['n1', 'n2'].map((n) => [n, 'slow: could not check this node (timed out): no answer from "slow" within its 50ms deadline'])),
  );
  t.equal((await ignore.app.inject('/debug/plugins')).json().scheduler[0].timeouts, 2);
  const optional = await buildTestApp(t, {
    plugins: { scheduler: [slow] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'slow', timeout: '50ms', optional: true }] },
  });
  const kept = (await optional.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2']) })).json();
  t.same(kept.NodeNames, ['n1', 'n2'], 'Ignore and optional: the timed-out plugin is skipped');

  const fail = await buildTestApp(t, {
    plugins: { scheduler: [slow] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'slow', timeout: '50ms', failurePolicy: 'Fail' }] },
  });
  const failed = (await fail.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1']) })).json();
  t.match(failed.Error, /"slow" timed out: no answer from "slow" within its 50ms deadline/);
});

t.test('a synchronous plugin past its deadline: the late stride is discarded and the rest not asked', async (t) => {
  let calls = 0;
  const spin = (ms: number): void => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  const hog: SchedulerPlugin = { name: () => 'hog', filter: () => (calls++, spin(2), false) };
  const many = Array.from({ length: DEADLINE_STRIDE * 3 }, (_, i) => node(`m${i}`));
  const names = many.map((n) => n.metadata.name);
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [hog] },
    cluster: { ...cluster, nodes: many },
    config: { 'scheduler-plugins': [{ name: 'hog', timeout: '10ms' }] },
  });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, names) })).json();
  t.equal(calls, DEADLINE_STRIDE, 'the deadline is checked once per stride; after it passed no node is asked');
  t.same(body.NodeNames, [], 'Ignore: no answer of the late plugin counts, so no node is kept');
  t.equal(Object.keys(body.FailedAndUnresolvableNodes).length, names.length);
  const stats = (await app.inject('/debug/plugins')).json().scheduler[0];
  t.equal(stats.timeouts, many.length, 'every node without a timely answer is a timeout');

  calls = 0;
  const fail = await buildTestApp(t, {
    plugins: { scheduler: [hog] },
    cluster: { ...cluster, nodes: many },
    config: { 'scheduler-plugins': [{ name: 'hog', timeout: '10ms', failurePolicy: 'Fail' }] },
  });
  const failed = (await fail.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, names) })).json();
  t.match(failed.Error, /"hog" timed out: no answer from "hog" within its 10ms deadline/);
  t.same(failed.NodeNames, []);
});

t.test('a plugin answering some nodes at once and some with a Promise: both kinds count', async (t) => {
  const mixed: SchedulerPlugin = {
    name: () => 'mixed',
    filter: (_c, _p, n) => (n.metadata.name === 'n2' ? Promise.resolve({ passed: false, reason: 'later' }) : n.metadata.name !== 'n4'),
  };
  const { app } = await buildTestApp(t, { plugins: { scheduler: [mixed] }, cluster });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1', 'n2', 'n3', 'n4']) })).json();
  t.same(body.NodeNames, ['n1', 'n3']);
  t.same(body.FailedNodes, { n2: 'mixed: later', n4: 'mixed: rejected by mixed' });
});

t.test('the request budget bounds every plugin deadline', async (t) => {
  let seen: AbortSignal | undefined;
  const slow: SchedulerPlugin = {
    name: () => 'slow',
    filter: (ctx) => ((seen = ctx.signal), new Promise<boolean>((resolve) => ctx.signal.addEventListener('abort', () => resolve(true)))),
  };
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [slow] },
    cluster,
    config: { scheduler: { requestBudget: '30ms' }, 'scheduler-plugins': [{ name: 'slow', timeout: '10s', failurePolicy: 'Fail' }] },
  });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(thePod, ['n1']) })).json();
  // What is left of the 30ms budget when the plugin starts, never its own 10s.
  const deadline = Number(/within its (\d+)ms deadline/.exec(String(body.Error))?.[1]);
  t.ok(deadline > 0 && deadline <= 30, `bounded by the request budget: ${String(body.Error)}`);
  t.equal(seen?.aborted, true, 'the plugin was told to stop');
});

t.test('unknown pool: neutral by default, rejected when configured', async (t) => {
  const stray = pod('stray-0', { pool: 'no-such-pool' });
  let poolSeen: unknown = 'unset';
  const probe: SchedulerPlugin = { name: () => 'probe', filter: (_c, _p, _n, pool) => ((poolSeen = pool), true) };
  const neutral = await buildTestApp(t, { plugins: { scheduler: [probe] }, cluster });
  const body = (await neutral.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(stray, ['n1']) })).json();
  t.same(body.NodeNames, ['n1']);
  t.equal(poolSeen, undefined, 'plugins see no pool');
  const trace = (await neutral.app.inject('/debug/plugins/scheduler/trace?pod=stray-0')).json();
  t.equal(trace.decisions[0].poolStatus, 'unknown');
  t.equal(trace.decisions[0].pool, 'agents/no-such-pool');
  t.match((await neutral.app.inject('/metrics')).body, /neuronetes_scheduler_unknown_pool_total 1/);

  const reject = await buildTestApp(t, { plugins: { scheduler: [probe] }, cluster, config: { scheduler: { unknownPool: 'reject' } } });
  const rb = (await reject.app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(stray, ['n1']) })).json();
  t.same(rb.NodeNames, []);
  t.same(rb.FailedAndUnresolvableNodes, { n1: "pod's AgentPool agents/no-such-pool is unknown to the NeuroNetes extender" });
});

t.test('the pool is resolved by label or by owner reference, and handed to plugins', async (t) => {
  const pools: (string | undefined)[] = [];
  const probe: SchedulerPlugin = { name: () => 'probe', filter: (_c, _p, _n, pool) => (pools.push(pool?.metadata.name), true) };
  const rs = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'chat-rs',
      namespace: 'agents',
      ownerReferences: [{ apiVersion: 'neuronetes.io/v1alpha1', kind: 'AgentPool', name: 'chat', controller: true }],
    },
  };
  const { app } = await buildTestApp(t, { plugins: { scheduler: [probe] }, cluster: { ...cluster, others: [rs] } });
  const owned = pod('chat-x');
  owned.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'chat-rs', controller: true }];
  await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(owned, ['n1']) });
  await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('plain'), ['n1']) });
  t.same(pools, ['chat', undefined]);
});
