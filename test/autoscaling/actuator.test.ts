/**
 * The actuator over a fake writable source and the real AutoscalerService: it writes only a changed
 * count, records status, keeps going past a pool that fails (counted), does nothing as a follower,
 * and writes nothing once closed. The real API server runs it in test/e2e/autoscaling.test.ts.
 */
import { pino } from 'pino';
import t from 'tap';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { Actuator, type ScalingSource } from '../../src/autoscaling/actuator.ts';
import { ClusterState } from '../../src/cluster/cluster-view.ts';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { buildApp } from '../../src/server/app.ts';
import { STATIC_ONLY, pool, testApp } from './helpers.ts';

const withQueue = (name: string, queueDepth: number, replicas: number): AgentPool =>
  pool(
    name,
    { replicas, maxReplicas: 20, autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } },
    { metadata: { name, annotations: { 'metrics.neuronetes.io/queue-depth': String(queueDepth) } } },
  );

interface Writes {
  scales: string[];
  statuses: { pool: string; status: Partial<NonNullable<AgentPool['status']>> }[];
}

/** `apply`: a scale changes the pool's spec and status replicas at once (pods that start instantly). */
function fakeSource(pools: AgentPool[], options: { leader?: () => boolean; failScale?: string; apply?: boolean } = {}): ScalingSource & { writes: Writes } {
  const stateOf = (list: AgentPool[]): ClusterState => new ClusterState({ nodes: [], pods: [], agentPools: list, agentClasses: [], models: [] }, 1);
  let view = stateOf(pools);
  const writes: Writes = { scales: [], statuses: [] };
  return {
    writes,
    view: () => view,
    isLeader: options.leader ?? (() => true),
    scalePool: async (namespace, name, replicas) => {
      if (name === options.failScale) throw new Error(`scaling AgentPool ${namespace}/${name} to ${replicas} failed: 409: conflict`);
      writes.scales.push(`${namespace}/${name}=${replicas}`);
      if (options.apply === true) {
        pools = pools.map((p) => (p.metadata.name === name ? { ...p, spec: { ...p.spec, replicas }, status: { ...p.status, replicas } } : p));
        view = stateOf(pools);
      }
    },
    patchPoolStatus: async (namespace, name, status) => void writes.statuses.push({ pool: `${namespace}/${name}`, status }),
  };
}

async function actuatorFor(
  t: { teardown(fn: () => unknown): void },
  source: ScalingSource & { writes: Writes },
  lines: string[] = [],
): Promise<{ actuator: Actuator; metrics: () => Promise<string>; clock: { now: number } }> {
  const { app, clock } = await testApp(STATIC_ONLY);
  t.teardown(() => app.close());
  const { autoscaler, metrics } = app.neuronetes;
  // The service decides on the app's snapshot; point its pool lookups at the fake source's view.
  Object.assign(app.neuronetes.cluster, { view: source.view });
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { actuator: new Actuator({ autoscaler, cluster: source, intervalMs: 50, log, metrics }), metrics: () => metrics.registry.metrics(), clock };
}

t.test('writes a changed count to the scale and status; an unchanged pool gets status only', async (t) => {
  const source = fakeSource([withQueue('grow', 65, 2), withQueue('steady', 20, 2)]);
  const { actuator, metrics } = await actuatorFor(t, source);
  const results = await actuator.runOnce();
  t.same(Object.fromEntries(results), { 'test/grow': 'scaled', 'test/steady': 'unchanged' });
  t.same(source.writes.scales, ['test/grow=6'], 'ceil(65/10) = 7, one rate-limit step from 2: max(2 + 4, 2 × 2)');
  const grow = source.writes.statuses.find((s) => s.pool === 'test/grow')?.status;
  t.match(grow, { currentMetrics: [{ type: 'queue-depth', current: '65', target: '10' }], lastScaleTime: String });
  t.notOk('lastScaleTime' in (source.writes.statuses.find((s) => s.pool === 'test/steady')?.status ?? {}), 'no scale, no scale time');
  t.match(await metrics(), /neuronetes_autoscaler_actuations_total\{pool="test\/grow",result="scaled"\} 1/);
});

t.test('wakes a pool at zero, then ramps as HPA: its own scales count from the round that made them', async (t) => {
  const asleep = (name: string): AgentPool => {
    const p = withQueue(name, 100_000, 0);
    return { ...p, spec: { ...p.spec, minReplicas: 0, maxReplicas: 1000 } };
  };
  for (const seconds of [15, 16]) {
    const source = fakeSource([asleep(`asleep-${seconds}`)], { apply: true });
    const { actuator, clock } = await actuatorFor(t, source);
    for (let round = 0; round < 6; round++) {
      clock.now += seconds * 1000;
      t.same(Object.fromEntries(await actuator.runOnce()), { [`test/asleep-${seconds}`]: 'scaled' });
    }
    // 0 → 4 (HPA's +4 from zero), then max(+4, ×2) each period.
    t.same(
      source.writes.scales,
      [4, 8, 16, 32, 64, 128].map((n) => `test/asleep-${seconds}=${n}`),
      `every ${seconds} s`,
    );
  }
});

t.test('a pool that fails is logged and counted; the others still scale', async (t) => {
  const source = fakeSource([withQueue('broken', 65, 2), withQueue('fine', 65, 2)], { failScale: 'broken' });
  const lines: string[] = [];
  const { actuator, metrics } = await actuatorFor(t, source, lines);
  const results = await actuator.runOnce();
  t.same(Object.fromEntries(results), { 'test/broken': 'failed', 'test/fine': 'scaled' });
  t.same(source.writes.scales, ['test/fine=6']);
  t.match(lines.join(''), /"pool":"test\/broken".*409: conflict.*could not scale the pool/);
  t.match(await metrics(), /neuronetes_autoscaler_actuations_total\{pool="test\/broken",result="failed"\} 1/);
});

t.test('a follower decides nothing and writes nothing; leadership lost mid-round stops the round', async (t) => {
  const follower = fakeSource([withQueue('a', 65, 2)], { leader: () => false });
  t.same((await (await actuatorFor(t, follower)).actuator.runOnce()).size, 0);
  t.same(follower.writes, { scales: [], statuses: [] });

  let calls = 0;
  const losing = fakeSource([withQueue('a', 65, 2), withQueue('b', 65, 2)], { leader: () => ++calls === 1 });
  const results = await (await actuatorFor(t, losing)).actuator.runOnce();
  t.same([...results.keys()], ['test/a'], 'the second pool is left to the new leader');
});

t.test('runs on its interval and writes nothing after close', async (t) => {
  const source = fakeSource([withQueue('a', 65, 2)]);
  const { actuator } = await actuatorFor(t, source);
  actuator.start();
  actuator.start();
  while (source.writes.statuses.length < 2) await new Promise((r) => setTimeout(r, 20));
  await actuator.close();
  const after = source.writes.statuses.length;
  await new Promise((r) => setTimeout(r, 200));
  t.equal(source.writes.statuses.length, after, 'closed: no more rounds');
  t.ok(source.writes.scales.length >= 1, 'the first round scaled');
});

t.test('buildApp refuses the actuator on a source that cannot scale pools', async (t) => {
  const log = pino({ level: 'silent' });
  await t.rejects(
    buildApp({ cluster: new SnapshotSource({ path: '/nonexistent', log, watch: false }), logger: log, actuator: { intervalMs: 1_000 } }),
    /the actuator needs a cluster source that can scale pools \(--cluster kubernetes\), not snapshot/,
  );
});
