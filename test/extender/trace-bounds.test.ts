/**
 * The scheduler trace is fed by requests, so it is bounded in bytes: each entry keeps as many of its
 * call's nodes as fit TRACE_ENTRY_MAX_BYTES and counts the rest, the ring keeps as many entries as
 * fit its traceBytes, and a /debug reply stops at TRACE_RESPONSE_MAX_BYTES.
 *
 * The figures — ~70 filter calls of 300,000 names, or ~25 preempts of 50,000 victim nodes —
 * took the process down. Here each call is that large, against a 4 MiB ring so that a few calls fill
 * it, driven through the service itself: kube-scheduler's wire reply to such a filter is 41 MB, and
 * writing it is not under test. NEURONETES_LONG_TESTS=1 runs the counts through HTTP
 * against the default 16 MiB ring.
 */
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { TRACE_ENTRY_MAX_BYTES, TRACE_MAX_BYTES, type TraceBuffer } from '../../src/observability/trace-buffer.ts';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import { TRACE_RESPONSE_MAX_BYTES } from '../../src/routes/debug-routes.ts';
import type { SchedulerTrace } from '../../src/scheduling/scheduler-trace.ts';
import { agentPool, namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const LONG = process.env['NEURONETES_LONG_TESTS'] === '1';
const RING_BYTES = LONG ? TRACE_MAX_BYTES : 4 * 1024 * 1024;
const log = pino({ level: 'silent' });

const cluster = { nodes: [node('n0'), node('n1')], pods: [], agentPools: [agentPool('chat')], agentClasses: [], models: [] };
const keepAll: SchedulerPlugin = { name: () => 'keep-all', filter: () => true };
const options = { plugins: { scheduler: [keepAll] }, cluster, ...(LONG ? {} : { config: { scheduler: { traceBytes: RING_BYTES } } }) };

/** Checks the ring's count and every kept entry's JSON against the bounds. */
function holdsBounds(t: Test, ring: TraceBuffer<SchedulerTrace>): void {
  const entries = ring.list().map((e) => Buffer.byteLength(JSON.stringify(e)));
  t.ok(ring.bytes <= RING_BYTES, `the ring counts ${ring.bytes} bytes, within ${RING_BYTES}`);
  t.ok(
    entries.every((b) => b <= TRACE_ENTRY_MAX_BYTES),
    `every entry's JSON is within ${TRACE_ENTRY_MAX_BYTES}: largest ${Math.max(...entries)}`,
  );
  const total = entries.reduce((a, b) => a + b, 0);
  t.ok(total <= RING_BYTES, `the entries' JSON, ${total} bytes, is within the ring's bound`);
}

t.test('filter calls of 300,000 node names keep the trace under its byte bounds, and so does /debug', async (t) => {
  const { app } = await buildTestApp(t, options);
  const names = Array.from({ length: 300_000 }, (_, i) => `attacker-node-${String(i).padStart(7, '0')}`);
  const args = namesArgs(pod('any-0', { pool: 'chat' }), ['n0', 'n1', ...names]);
  const ring = app.neuronetes.traces.scheduler;
  for (let call = 0; call < (LONG ? 70 : 6); call++) {
    if (LONG) t.equal((await app.inject({ method: 'POST', url: '/scheduler/filter', payload: args })).statusCode, 200);
    else t.equal((await app.neuronetes.extender.filter(args, log)).keptCount, 2);
  }
  holdsBounds(t, ring);
  t.ok(ring.list().length < (LONG ? 70 : 6), 'older entries made room');
  const newest = ring.list()[0] as SchedulerTrace;
  t.same(newest.nodes['n0'], { kept: true }, 'the candidates the cache knows come first');
  t.ok((newest.nodesOmitted ?? 0) > 250_000, `the names past the bound are counted, not kept: ${newest.nodesOmitted}`);
  t.ok(Object.keys(newest.nodes).length > 1000, 'as many as fit are kept');

  const debug = await app.inject('/debug/plugins/scheduler/trace');
  t.ok(debug.rawPayload.length <= TRACE_RESPONSE_MAX_BYTES, `/debug answered ${debug.rawPayload.length} bytes, within ${TRACE_RESPONSE_MAX_BYTES}`);
  const body = debug.json<{ count: number; omitted?: number; decisions: SchedulerTrace[] }>();
  t.equal(body.count, body.decisions.length);
  t.equal(body.count + (body.omitted ?? 0), ring.list().length, 'every kept decision is sent or counted');
  t.equal(body.decisions[0]?.id, newest.id, 'newest first');
});

t.test('a /debug reply stops at its bound and counts the decisions it leaves out', async (t) => {
  const { app } = await buildTestApp(t, { ...options, config: { scheduler: { traceBytes: 64 * 1024 * 1024 } } });
  const names = Array.from({ length: 100_000 }, (_, i) => `attacker-node-${String(i).padStart(7, '0')}`);
  const args = namesArgs(pod('any-0', { pool: 'chat' }), names);
  for (let call = 0; call < 10; call++) await app.neuronetes.extender.filter(args, log);
  const debug = await app.inject('/debug/plugins/scheduler/trace');
  t.ok(debug.rawPayload.length <= TRACE_RESPONSE_MAX_BYTES, `/debug answered ${debug.rawPayload.length} bytes`);
  const body = debug.json<{ count: number; omitted?: number }>();
  t.ok(body.count > 0 && (body.omitted ?? 0) > 0 && body.count + (body.omitted ?? 0) === 10, `sent ${body.count}, omitted ${body.omitted}`);
});

t.test('preempt calls with 50,000 victim nodes keep the trace under its byte bound', async (t) => {
  const { app } = await buildTestApp(t, options);
  const victims = Object.fromEntries(
    Array.from({ length: 50_000 }, (_, i) => [`victim-node-${i}`, { Pods: [{ UID: `uid-${i}-a` }, { UID: `uid-${i}-b` }], NumPDBViolations: 0 }]),
  );
  const args = { Pod: pod('big-0'), NodeNameToMetaVictims: victims };
  const ring = app.neuronetes.traces.scheduler;
  for (let call = 0; call < (LONG ? 25 : 6); call++) {
    const result = LONG
      ? (await app.inject({ method: 'POST', url: '/scheduler/preempt', payload: args })).json()
      : await app.neuronetes.extender.preempt(args, log);
    t.equal(Object.keys(result.NodeNameToMetaVictims).length, 50_000, 'the wire answer is whole');
  }
  holdsBounds(t, ring);
  const newest = ring.list()[0] as SchedulerTrace;
  t.ok((newest.nodesOmitted ?? 0) > 0 && Object.keys(newest.nodes).length + (newest.nodesOmitted ?? 0) === 50_000, 'every node is either traced or counted');
  t.same(newest.nodes['victim-node-0'], { kept: true, victims: { kept: ['uid-0-a', 'uid-0-b'], vetoed: [] } });
});
