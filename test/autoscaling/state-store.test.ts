/**
 * The autoscaler's per-pool state store: exact compaction (stabilization answers the same on the
 * thinned history), size caps, and who reads and writes what with several replicas (leader memory,
 * follower reads the leader's state, a new leader forgets, only the leader persists).
 */
import { pino } from 'pino';
import t from 'tap';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import {
  ClusterStateStore,
  STATE_LIMITS,
  clusterStateStore,
  compactState,
  decodeState,
  emptyState,
  encodeState,
  type PoolAutoscalerState,
} from '../../src/autoscaling/autoscaler-state.ts';
import { stabilize } from '../../src/autoscaling/stabilization.ts';
import type { ClusterSource } from '../../src/cluster/cluster-source.ts';
import { ClusterState } from '../../src/cluster/cluster-view.ts';
import { pool } from './helpers.ts';

const REF = { namespace: 'test', name: 'chat' };

function viewWith(status?: AgentPool['status']): ClusterState {
  const p = pool('chat', {}, status !== undefined ? { status } : {});
  return new ClusterState({ nodes: [], pods: [], agentPools: [p], agentClasses: [], models: [] }, 1);
}

function stateWith(replicas: number[], start = 0, stepMs = 1_000): PoolAutoscalerState {
  return { ...emptyState(), recommendations: replicas.map((r, i) => ({ time: start + i * stepMs, replicas: r })) };
}

/** A small deterministic PRNG so the property test is the same on every run. */
function prng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

t.test('compaction keeps what can still be a window max or min, and nothing else', async (t) => {
  const thinned = compactState(stateWith([5, 3, 4, 2, 6, 4])).recommendations.map((r) => r.replicas);
  // 5, 3 and the first 4 each have a later entry at least as high and one at least as low.
  t.same(thinned, [2, 6, 4]);
  t.same(compactState(stateWith([7, 7, 7])).recommendations, [{ time: 2_000, replicas: 7 }], 'equal values: the newest one covers the others');
  t.same(compactState(emptyState()), emptyState(), 'an empty state stays empty');
});

t.test('stabilization answers the same on the compacted history, for any window and any later time', async (t) => {
  const random = prng(42);
  for (let run = 0; run < 200; run++) {
    const replicas = Array.from({ length: 1 + Math.floor(random() * 40) }, () => 1 + Math.floor(random() * 12));
    const full = stateWith(replicas, 0, 7_000);
    const compact = compactState(full);
    const last = (full.recommendations.at(-1)?.time ?? 0) + Math.floor(random() * 60_000);
    const up = Math.floor(random() * 120_000);
    const down = Math.floor(random() * 400_000);
    const desired = 1 + Math.floor(random() * 12);
    const current = 1 + Math.floor(random() * 12);
    const a = stabilize(full.recommendations, desired, current, up, down, last);
    const b = stabilize(compact.recommendations, desired, current, up, down, last);
    if (a.replicas !== b.replicas || a.reason !== b.reason) {
      t.fail(`differs for ${JSON.stringify({ replicas, last, up, down, desired, current })}`);
      return;
    }
  }
  t.pass('200 random histories agree');
});

t.test('caps bound the state whatever the history', async (t) => {
  t.equal(
    compactState(stateWith(Array.from({ length: 1_000 }, (_, i) => 3 + (i % 2)))).recommendations.length,
    2,
    'a noisy flat series collapses to its last high and low',
  );
  // Strictly falling over 1000 distinct counts: each can still be some scale-down window's max; the cap bounds it.
  const falling = compactState(stateWith(Array.from({ length: 1_000 }, (_, i) => 1_000 - i)));
  t.equal(falling.recommendations.length, STATE_LIMITS.recommendations);
  t.equal(falling.recommendations.at(-1)?.replicas, 1, 'the newest ones are kept');
  const busy: PoolAutoscalerState = {
    ...emptyState(),
    scaleEvents: Array.from({ length: 500 }, (_, i) => ({ time: i, change: 1 })),
    samples: { 'queue-depth': Array.from({ length: 500 }, (_, i) => ({ time: i, value: i })) },
  };
  const capped = compactState(busy);
  t.equal(capped.scaleEvents.length, STATE_LIMITS.scaleEvents);
  t.equal(capped.samples['queue-depth']?.length, STATE_LIMITS.samplesPerMetric);
  t.equal(capped.samples['queue-depth']?.at(-1)?.value, 499);
  const worst = encodeState(
    compactState({ ...falling, scaleEvents: busy.scaleEvents, samples: { a: busy.samples['queue-depth'] ?? [], b: busy.samples['queue-depth'] ?? [] } }),
  );
  t.ok(worst.length < 16_384, `worst case with two metrics is ${worst.length} bytes`);
});

t.test('a persisted state that does not decode is no state', async (t) => {
  t.equal(decodeState('{"recommendations": "lots"}'), undefined, 'wrong shape');
  t.equal(decodeState('{not json'), undefined, 'not JSON');
  const store = new ClusterStateStore({ cluster: () => viewWith({ autoscalerState: 'garbage' }), persist: async () => undefined });
  t.equal(await store.load(REF), undefined, 'a hand-edited status reads as a pool seen for the first time');
});

t.test('without persist: memory first, then the pool status (a snapshot)', async (t) => {
  const persisted = stateWith([3]);
  const store = new ClusterStateStore({ cluster: () => viewWith({ autoscalerState: encodeState(persisted) }) });
  t.same(await store.load(REF), persisted);
  const newer = stateWith([3, 4]);
  await store.save(REF, newer);
  t.same(await store.load(REF), compactState(newer));
});

t.test('the leader reads its memory and writes; a follower reads the leader state and writes nothing', async (t) => {
  let leader = false;
  let view = viewWith({ autoscalerState: encodeState(stateWith([2], 0)) });
  const writes: string[] = [];
  const store = new ClusterStateStore({ cluster: () => view, isLeader: () => leader, persist: async (_p, encoded) => void writes.push(encoded) });

  t.same((await store.load(REF))?.recommendations, [{ time: 0, replicas: 2 }], 'follower: the leader’s state');
  await store.save(REF, stateWith([2, 5], 0));
  t.same(writes, [], 'a follower never writes');
  view = viewWith({ autoscalerState: encodeState(stateWith([2, 3], 0)) });
  t.same(
    (await store.load(REF))?.recommendations.map((r) => r.replicas),
    [2, 3],
    'follower: the leader’s newer state wins over its own memory',
  );

  leader = true;
  t.same(
    (await store.load(REF))?.recommendations.map((r) => r.replicas),
    [2, 3],
    'a new leader starts from what the last leader wrote, not its follower memory',
  );
  await store.save(REF, stateWith([2, 3, 6], 0));
  t.equal(writes.length, 1, 'the leader writes');
  t.same(
    decodeState(writes[0])?.recommendations.map((r) => r.replicas),
    [2, 3, 6],
  );
  // The informer still shows the old status: the leader's memory is newer.
  t.same(
    (await store.load(REF))?.recommendations.map((r) => r.replicas),
    [2, 3, 6],
    'leader: its memory, not the lagging informer',
  );

  const gone = new ClusterStateStore({
    cluster: () => new ClusterState({ nodes: [], pods: [], agentPools: [], agentClasses: [], models: [] }, 1),
    persist: async (_p, e) => void writes.push(e),
  });
  await gone.save(REF, stateWith([1]));
  t.equal(writes.length, 1, 'a pool no longer in the cluster is not written');
});

function fakeSource(patch?: ClusterSource['patchPoolStatus'], leader = true): ClusterSource {
  return {
    kind: 'fake',
    start: async () => undefined,
    close: async () => undefined,
    view: () => viewWith(),
    readiness: () => ({ ready: true }),
    bind: async () => undefined,
    onChange: () => () => undefined,
    isLeader: () => leader,
    ...(patch !== undefined ? { patchPoolStatus: patch } : {}),
  };
}

t.test('clusterStateStore: persists to status.autoscalerState through the source; a failed write is logged, not thrown', async (t) => {
  const calls: unknown[][] = [];
  const ok = clusterStateStore(
    fakeSource(async (...args) => void calls.push(args)),
    pino({ level: 'silent' }),
  );
  await ok.save(REF, stateWith([4]));
  t.equal(calls.length, 1);
  t.match(calls[0], ['test', 'chat', { autoscalerState: String }]);

  const follower = clusterStateStore(
    fakeSource(async (...args) => void calls.push(args), false),
    pino({ level: 'silent' }),
  );
  await follower.save(REF, stateWith([4]));
  t.equal(calls.length, 1, 'not the leader: no write');

  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const failing = clusterStateStore(
    fakeSource(async () => Promise.reject(new Error('409: the object has been modified'))),
    log,
  );
  await failing.save(REF, stateWith([4]));
  t.match(lines.join(''), /409: the object has been modified.*could not persist the autoscaler state/);
  t.same(
    (await failing.load(REF))?.recommendations.map((r) => r.replicas),
    [4],
    'the decision’s state is still in memory',
  );

  const snapshot = clusterStateStore(fakeSource(), pino({ level: 'silent' }));
  await snapshot.save(REF, stateWith([4]));
  t.same(
    (await snapshot.load(REF))?.recommendations.map((r) => r.replicas),
    [4],
    'a source that cannot write status keeps memory',
  );
});
