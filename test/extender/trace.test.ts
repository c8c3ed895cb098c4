/**
 * The scheduler trace keeps its last calls' per-node detail in columns it hands from the call it
 * forgets to the call it records: each kept entry must still tell its own call's story, whatever
 * the sizes of the calls before it, and an entry the ring has forgotten must tell none.
 */
import t from 'tap';
import { TraceBuffer } from '../../src/observability/trace-buffer.ts';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import type { SchedulerTrace } from '../../src/scheduling/scheduler-trace.ts';
import { agentPool, namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

t.test('TraceBuffer.push hands back the entries it pushed out', async (t) => {
  const ring = new TraceBuffer<{ id: number; time: string; subject: string }>(2);
  const entry = (id: number) => ({ id, time: '', subject: `s${id}` });
  t.same(ring.push(entry(1)), []);
  t.same(ring.push(entry(2)), []);
  t.same(ring.push(entry(3)), [entry(1)]);
  t.same(
    ring.list().map((e) => e.id),
    [3, 2],
  );
  t.same(new TraceBuffer(0).push(entry(4)), [entry(4)], 'a ring of no entries keeps nothing');
});

t.test('TraceBuffer keeps to its bytes as well as its count: the oldest go first', async (t) => {
  const ring = new TraceBuffer<{ id: number; time: string; subject: string }>(10, undefined, 100);
  const entry = (id: number) => ({ id, time: '', subject: `s${id}` });
  t.same(ring.push(entry(1), 40), []);
  t.same(ring.push(entry(2), 40), []);
  t.same(ring.push(entry(3), 40), [entry(1)], 'a third 40-byte entry pushes the oldest out');
  t.equal(ring.bytes, 80);
  t.same(ring.push(entry(4), 90), [entry(2), entry(3)], 'as many as it takes');
  t.same(ring.push(entry(5), 101), [entry(5)], 'an entry larger than the ring is not kept');
  t.same(
    ring.list().map((e) => e.id),
    [4],
  );
  t.equal(ring.bytes, 90);
  const counted = new TraceBuffer<{ id: number; time: string; subject: string }>(10);
  counted.push(entry(6));
  t.equal(counted.bytes, JSON.stringify(entry(6)).length, 'by default an entry counts as its JSON');
});

const nodes = Array.from({ length: 6 }, (_, i) => node(`n${i}`, { rank: String(i) }));
const cluster = { nodes, pods: [], agentPools: [agentPool('chat')], agentClasses: [], models: [] };
/** Rejects odd ranks for `even-*` pods; scores rank × 10. */
const plugin: SchedulerPlugin = {
  name: () => 'rank',
  filter: (_c, p, n) => !p.metadata.name?.startsWith('even') || Number(n.metadata.labels?.['rank']) % 2 === 0 || { passed: false, reason: 'odd rank' },
  score: (_c, _p, n) => Number(n.metadata.labels?.['rank']) * 10,
};

t.test("each kept entry tells its own call's nodes, as columns pass from call to call", async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [plugin] }, cluster, config: { scheduler: { traceSize: 2 } } });
  const call = (verb: string, name: string, names: string[]) =>
    app.inject({ method: 'POST', url: `/scheduler/${verb}`, payload: namesArgs(pod(name, { pool: 'chat' }), names) });
  const ring = app.neuronetes.traces.scheduler;
  const newest = (): SchedulerTrace => ring.list()[0] as SchedulerTrace;
  // Relative wire scores: the call's best rank gets 10, each rank below it one less. Stale totals in
  // reused columns would show as a wrong best.
  const scored = (names: string[]) => {
    const best = Math.max(...names.map((n) => Number(n.slice(1))));
    return Object.fromEntries(
      names.map((n) => {
        const rank = Number(n.slice(1));
        return [n, { score: rank * 10, wireScore: 10 - (best - rank), scores: { rank: rank * 10 } }];
      }),
    );
  };

  await call('filter', 'any-0', ['n0', 'n1', 'n2', 'n3', 'n4', 'n5']);
  const first = newest();
  await call('prioritize', 'any-0', ['n5', 'n4', 'n3', 'n2', 'n1', 'n0']);
  const second = newest();
  await call('filter', 'any-1', ['n1', 'n2', 'n3']);
  t.same(first.nodes, {}, "a forgotten entry still held by a reader shows no other call's nodes");
  t.same(second.nodes, scored(['n5', 'n4', 'n3', 'n2', 'n1', 'n0']));
  // Each call from here on takes the columns of an entry the ring forgot, of its own kind.
  await call('prioritize', 'any-1', ['n2', 'n4']);
  t.same(second.nodes, {});
  t.same(newest().nodes, scored(['n2', 'n4']), "fewer nodes than the columns held: only the call's own");
  await call('filter', 'even-2', ['n5', 'n0']);
  t.same(newest().nodes, { n5: { kept: false, rejectedBy: 'rank', reason: 'odd rank' }, n0: { kept: true } });
  await call('filter', 'any-3', ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n0']);
  t.same(Object.keys(newest().nodes), ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'], 'more nodes than the columns held: they grow');
  t.same(ring.list()[1]?.nodes, { n5: { kept: false, rejectedBy: 'rank', reason: 'odd rank' }, n0: { kept: true } }, 'the entry before it is untouched');
  await call('prioritize', 'any-4', ['n1', 'n3', 'n5']);
  t.same(newest().nodes, scored(['n1', 'n3', 'n5']));

  const filtered = (await app.inject('/debug/plugins/scheduler/trace?pod=any-0')).json().decisions;
  t.same(filtered, [], 'forgotten entries are not listed');
});

t.test('rejections in the trace point at the right reasons after reuse', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [plugin] }, cluster, config: { scheduler: { traceSize: 1 } } });
  await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('any-0', { pool: 'chat' }), ['n0', 'n1']) });
  await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('even-0', { pool: 'chat' }), ['n1', 'n2']) });
  const decision = (await app.inject('/debug/plugins/scheduler/trace')).json().decisions[0];
  t.same(decision.nodes, { n1: { kept: false, rejectedBy: 'rank', reason: 'odd rank' }, n2: { kept: true } });
});

t.test('names, UIDs and messages a request chose are cut in the trace', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [plugin] }, cluster });
  const long = 'x'.repeat(100_000);
  await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod(long, { pool: 'chat' }), [long]) });
  const entry = app.neuronetes.traces.scheduler.list()[0] as SchedulerTrace;
  t.ok(entry.pod.length < 2_000 && entry.summary.length < 2_000, 'the pod key and summary are cut');
  t.same(
    Object.keys(entry.nodes).map((n) => n.length < 400),
    [true],
    'the unknown name is cut',
  );
  t.ok(JSON.stringify(entry).length < 10_000);
});
