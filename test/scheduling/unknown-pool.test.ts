/** Pods of unknown pools: one warn line per pool per interval, not one per call, in bounded memory. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { UnknownPoolNotices } from '../../src/scheduling/pool-resolver.ts';
import { buildApp } from '../../src/server/app.ts';
import { a100, pod } from '../helpers/scheduling-fixtures.ts';

t.test('once per pool per interval, counting the calls kept quiet', async (t) => {
  let now = 0;
  const notices = new UnknownPoolNotices({ intervalMs: 1000, clock: () => now });
  t.equal(notices.take('a/x'), 0, 'the first call is noticed');
  t.equal(notices.take('a/x'), undefined);
  t.equal(notices.take('a/y'), 0, 'another pool is noticed on its own');
  now = 999;
  t.equal(notices.take('a/x'), undefined, 'still inside the interval');
  now = 1000;
  t.equal(notices.take('a/x'), 2, 'noticed again, with the two calls kept quiet');
  t.equal(notices.take('a/x'), undefined);
});

t.test('memory is bounded: the pool noticed longest ago is forgotten first', async (t) => {
  const notices = new UnknownPoolNotices({ intervalMs: 60_000, maxPools: 3, clock: () => 0 });
  for (const ref of ['a', 'b', 'c', 'd', 'e']) notices.take(ref);
  t.equal(notices.size, 3);
  t.equal(notices.take('e'), undefined, 'a recent pool is remembered');
  t.equal(notices.take('a'), 0, 'the oldest was forgotten, so it is noticed again');
  t.equal(notices.size, 3);
});

t.test('through the HTTP app: many filter calls, one warn line per unknown pool', async (t) => {
  const lines: { msg: string; pool?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as { msg: string; pool?: string });
      done();
    },
  });
  const logger = pino({ level: 'warn' }, sink);
  const cluster = new SnapshotSource({
    objects: { nodes: [a100('gpu-1')], pods: [], agentPools: [], agentClasses: [], models: [] },
    log: logger,
    watch: false,
  });
  const app = await buildApp({ cluster, logger, watchConfig: false });
  t.teardown(() => app.close());
  await app.ready();
  for (let i = 0; i < 5; i++) {
    for (const pool of ['ghost', 'phantom']) {
      const res = await app.inject({
        method: 'POST',
        url: '/scheduler/filter',
        payload: { Pod: pod(`p-${pool}-${i}`, { pool, gpus: 1 }), NodeNames: ['gpu-1'] },
      });
      t.equal(res.statusCode, 200);
    }
  }
  const notices = lines.filter((l) => l.msg.startsWith('pod names an AgentPool the extender does not know'));
  t.same(notices.map((l) => l.pool).sort(), ['agents/ghost', 'agents/phantom']);
  t.match(notices[0]?.msg, /once per pool every 5 minutes; 0 calls since the last/);
});
