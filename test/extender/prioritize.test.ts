import t from 'tap';
import { Value } from 'typebox/value';
import { HostPriorityList } from '../../src/api/extender.ts';
import { toWireScores } from '../../src/scheduling/score-chain.ts';
import { SKIP, type SchedulerPlugin } from '../../src/plugins/types.ts';
import { namesArgs, node, nodesArgs, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

/** Scores from a node label, so each test states its inputs in the fixture. */
const fromLabel = (name: string, label: string, priority = 100): SchedulerPlugin => ({
  name: () => name,
  priority: () => priority,
  score: (_c, _p, n) => Number(n.metadata.labels?.[label]),
});

const nodes = [node('a', { s1: '100', s2: '0' }), node('b', { s1: '40', s2: '100' }), node('c', { s1: '0', s2: '10' })];
const cluster = { nodes, pods: [], agentPools: [], agentClasses: [], models: [] };
const p = pod('x-0');

t.test('relative wire scores: the best total(s) get 10, every lower total strictly less', async (t) => {
  const wire = (totals: number[], mapping: 'relative' | 'absolute' = 'relative'): number[] => [...toWireScores(totals, mapping)];
  t.same(wire([41.6, 35]), [10, 9], "the issue's spot and on-demand nodes: both 4 under absolute");
  t.same(wire([41.6, 35], 'absolute'), [4, 4], 'absolute: the same ten-point band ties');
  t.same(wire([50, 49]), [10, 9], 'one point behind is still one wire point behind');
  t.same(wire([50, 49.99]), [10, 9], 'so is a hundredth');
  t.same(wire([50, 50.004]), [10, 10], 'totals equal to the hundredth (as the trace shows them) tie');
  t.same(wire([30, 30, 30]), [10, 10, 10], 'all equal: all tie at 10');
  t.same(wire([80, 80, 61, 20]), [10, 10, 8, 4], 'ties at the top stay ties; the rest sit below by their gap in tens, rounded');
  t.same(wire([100, 0]), [10, 0]);
  t.same(wire([44, 45.01, 150, -3]), [4, 5, 10, 0], 'out-of-range totals are clamped first');
  t.same(wire([]), []);
});

t.test('relative wire scores are monotone with a strict top, for any totals', async (t) => {
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 500; round++) {
    // Up to 40 nodes, totals on a coarse grid so that ties and 1-point gaps come up often.
    const totals = Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.round(random() * (round % 2 === 0 ? 100 : 20)) / (round % 3 === 0 ? 1 : 4));
    const wire = toWireScores(totals, 'relative');
    const best = Math.max(...totals);
    for (let i = 0; i < totals.length; i++) {
      const [ti, wi] = [totals[i] as number, wire[i] as number];
      if (!(Number.isInteger(wi) && wi >= 0 && wi <= 10)) t.fail(`wire score ${wi} is not an integer 0..10`);
      if (ti === best && wi !== 10) t.fail(`best total ${ti} got ${wi}`);
      if (ti < best && wi >= 10) t.fail(`total ${ti} below the best ${best} got ${wi}`);
      for (let j = 0; j < totals.length; j++) {
        const [tj, wj] = [totals[j] as number, wire[j] as number];
        if (ti >= tj && wi < wj) t.fail(`not monotone: ${ti} → ${wi} but ${tj} → ${wj}`);
      }
    }
  }
  const many = Array.from({ length: 30 }, (_, i) => 100 - i * 3.4);
  const wire = [...toWireScores(many, 'relative')];
  t.equal(wire[0], 10);
  t.ok(
    wire.slice(1).every((w) => w <= 9),
    'more distinct totals than wire scores: only the best gets 10',
  );
  t.same(
    wire,
    [...wire].sort((a, b) => b - a),
    'and the rest keep their order',
  );
  t.pass('500 random calls checked');
});

t.test('weighted mean of plugin scores, then the 0..10 mapping', async (t) => {
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [fromLabel('s1', 's1'), fromLabel('s2', 's2')] },
    cluster,
    config: {
      'scheduler-plugins': [
        { name: 's1', weight: 3 },
        { name: 's2', weight: 1 },
      ],
    },
  });
  const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['a', 'b', 'c']) });
  t.equal(res.statusCode, 200);
  // a: (3·100 + 0)/4 = 75, the best → 10; b: (3·40 + 100)/4 = 55, 20 behind → 8; c: (0 + 10)/4 = 2.5, 72.5 behind → 3
  t.same(res.json(), [
    { Host: 'a', Score: 10 },
    { Host: 'b', Score: 8 },
    { Host: 'c', Score: 3 },
  ]);
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0];
  t.equal(trace.verb, 'prioritize');
  t.same(trace.nodes.b, { score: 55, wireScore: 8, scores: { s1: 40, s2: 100 } }, 'the trace keeps the 0..100 detail');
  t.equal(trace.summary, 'scored 3 nodes; best a (total 75 → 10/10, relative)');
});

t.test('scheduler.wireScores: absolute sends round(total / 10), and the trace shows the same', async (t) => {
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [fromLabel('s1', 's1'), fromLabel('s2', 's2')] },
    cluster,
    config: {
      scheduler: { wireScores: 'absolute' },
      'scheduler-plugins': [
        { name: 's1', weight: 3 },
        { name: 's2', weight: 1 },
      ],
    },
  });
  const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['a', 'b', 'c']) });
  // 75 → 8, 55 → 6 (5.5 rounds up), 2.5 → 0
  t.same(res.json(), [
    { Host: 'a', Score: 8 },
    { Host: 'b', Score: 6 },
    { Host: 'c', Score: 0 },
  ]);
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0];
  t.match(trace.nodes, { a: { score: 75, wireScore: 8 }, b: { score: 55, wireScore: 6 }, c: { score: 2.5, wireScore: 0 } });
  t.equal(trace.summary, 'scored 3 nodes; best a (total 75 → 8/10, absolute)');
});

t.test('scores are integers on the wire even in full-node mode', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [fromLabel('s1', 's1')] } });
  const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: nodesArgs(p, nodes) });
  for (const h of res.json() as { Score: number }[]) t.ok(Number.isInteger(h.Score), `${h.Score} is an integer`);
  t.same(
    res.json().map((h: { Score: number }) => h.Score),
    [10, 4, 0],
  );
});

t.test('out-of-range scores are clamped and counted against the plugin', async (t) => {
  const wild: SchedulerPlugin = { name: () => 'wild', score: (_c, _p, n) => (n.metadata.name === 'a' ? 250 : -20) };
  const { app } = await buildTestApp(t, { plugins: { scheduler: [wild] }, cluster });
  const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['a', 'b']) });
  t.same(res.json(), [
    { Host: 'a', Score: 10 },
    { Host: 'b', Score: 0 },
  ]);
  t.match((await app.inject('/metrics')).body, /neuronetes_plugin_score_clamped_total\{plugin_name="wild"\} 2/);
});

t.test('a failing scorer is left out of the mean (Ignore) or fails the call (Fail)', async (t) => {
  const broken: SchedulerPlugin = {
    name: () => 'broken',
    score: (_c, _p, n) => {
      if (n.metadata.name === 'b') throw new Error('boom');
      return 0;
    },
  };
  const nan: SchedulerPlugin = { name: () => 'nan', score: () => Number.NaN };
  const ignore = await buildTestApp(t, { plugins: { scheduler: [fromLabel('s1', 's1'), broken, nan] }, cluster });
  const body = (await ignore.app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['a', 'b']) })).json();
  // a: mean(100, 0) = 50 → 10; b: only s1 answered → 40, 10 behind → 9
  t.same(body, [
    { Host: 'a', Score: 10 },
    { Host: 'b', Score: 9 },
  ]);
  const stats = (await ignore.app.inject('/debug/plugins')).json().scheduler;
  t.equal(stats.find((s: { name: string }) => s.name === 'nan').errors, 2, 'NaN is an error, not a score');

  const fail = await buildTestApp(t, {
    plugins: { scheduler: [broken] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'broken', failurePolicy: 'Fail' }] },
  });
  const res = await fail.app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['a', 'b']) });
  t.equal(res.statusCode, 500, 'prioritize has no Error field; the scheduler logs the failure and skips our scores');
  t.equal(res.json().code, 'NN_PLUGIN_CHAIN_FAILED');
  t.match(res.json().message, /"broken" failed: boom/);
});

t.test('preScore: SKIP means no score this call and no weight in any mean', async (t) => {
  let scored = 0;
  const flat: SchedulerPlugin = { name: () => 'flat', preScore: (_c, pod) => (pod.metadata.name === 'x-0' ? SKIP : undefined), score: () => (scored++, 50) };
  const { app } = await buildTestApp(t, { plugins: { scheduler: [fromLabel('s1', 's1'), flat] }, cluster });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['a', 'b', 'c']) })).json();
  t.same(
    body,
    [
      { Host: 'a', Score: 10 },
      { Host: 'b', Score: 4 },
      { Host: 'c', Score: 0 },
    ],
    's1 alone decides: a flat 50 would have pulled every node to the middle',
  );
  t.equal(scored, 0);
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0];
  t.same(trace.nodes.b.scores, { s1: 40, flat: null });
  t.match(trace.plugins, [{ plugin: 'flat', skipped: true }, { plugin: 's1' }]);

  const other = (await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(pod('y-0'), ['a', 'c']) })).json();
  t.same(
    other,
    [
      { Host: 'a', Score: 10 },
      { Host: 'c', Score: 5 },
    ],
    'another pod: flat scores and weighs in (a: 75, c: 25, 50 behind)',
  );
  t.equal(scored, 2);

  const broken: SchedulerPlugin = {
    name: () => 'broken',
    preScore: () => {
      throw new Error('no pool facts');
    },
    score: () => (scored++, 0),
  };
  const fail = await buildTestApp(t, {
    plugins: { scheduler: [broken] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 'broken', failurePolicy: 'Fail' }] },
  });
  const res = await fail.app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['a']) });
  t.equal(res.statusCode, 500);
  t.match(res.json().message, /"broken" failed: no pool facts/);
  t.equal(scored, 2, 'a failed preScore asks about no node');
});

t.test('shadow scorers are traced but carry no weight', async (t) => {
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [fromLabel('s1', 's1'), fromLabel('s2', 's2')] },
    cluster,
    config: { 'scheduler-plugins': [{ name: 's2', mode: 'shadow' }] },
  });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['a', 'b']) })).json();
  t.same(body, [
    { Host: 'a', Score: 10 },
    { Host: 'b', Score: 4 },
  ]);
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0];
  t.same(trace.nodes.b.scores, { s1: 40, s2: 100 });
});

t.test('no scorer, or an unknown node name: neutral and zero', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const body = (await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['a', 'ghost']) })).json();
  t.same(
    body,
    [
      { Host: 'a', Score: 10 },
      { Host: 'ghost', Score: 0 },
    ],
    'a neutral 50 is the best there is',
  );
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0];
  t.match(trace.nodes, { a: { score: 50, wireScore: 10 }, ghost: { score: 0, wireScore: 0 } });
  const unknown = (await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['ghost']) })).json();
  t.same(unknown, [{ Host: 'ghost', Score: 0 }]);
  t.equal((await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0].summary, 'scored 1 nodes, none in the node cache');
});

t.test('the reply is a HostPriorityList as JSON, names escaped: known nodes in the order asked, then those the cache lacks', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [fromLabel('s1', 's1')] }, cluster });
  const odd = ['a', 'ghost "quoted"\\', 'nöde-ノード-🚀', 'c'];
  const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, odd) });
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  const list: unknown = res.json();
  t.ok(Value.Check(HostPriorityList, list), 'a HostPriorityList');
  t.same(list, [
    { Host: 'a', Score: 10 },
    { Host: 'c', Score: 0 },
    { Host: 'ghost "quoted"\\', Score: 0 },
    { Host: 'nöde-ノード-🚀', Score: 0 },
  ]);
});
