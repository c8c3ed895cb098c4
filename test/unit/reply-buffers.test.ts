import t from 'tap';
import { JsonBytes } from '../../src/api/json-bytes.ts';
import { ReplyBuffers } from '../../src/api/reply-buffers.ts';

t.test('a buffer given back serves the next reply it is big enough for', async (t) => {
  const pool = new ReplyBuffers(2);
  const first = pool.take(10_000);
  t.ok(first.length >= 10_000);
  pool.give(first.subarray(0, 123));
  const again = pool.take(5_000);
  t.equal(again.buffer, first.buffer, 'the view given back returned its whole buffer');
  const other = pool.take(5_000);
  t.not(other.buffer, first.buffer, 'a buffer out on loan is not lent twice');
});

t.test('only its own buffers come back, once each, and not the oversized', async (t) => {
  const pool = new ReplyBuffers(4);
  pool.give(Buffer.alloc(100_000));
  pool.give(Buffer.from('{"a":1}'));
  t.equal(pool.take(10).length, 10, 'a stranger, or a view of the shared slab, is never lent');

  const lent = pool.take(50_000);
  pool.give(lent);
  pool.give(lent);
  const a = pool.take(50_000);
  const b = pool.take(50_000);
  t.equal(a.buffer, lent.buffer);
  t.not(b.buffer, lent.buffer, 'given back twice, lent once');

  const huge = pool.take(2 << 20);
  pool.give(huge);
  t.not(pool.take(2 << 20).buffer, huge.buffer, 'past 1 MiB a buffer is not kept');
});

t.test('a full pool keeps its largest buffers', async (t) => {
  const pool = new ReplyBuffers(2);
  const [small, medium, large] = [pool.take(1_000), pool.take(20_000), pool.take(300_000)];
  pool.give(small);
  pool.give(medium);
  pool.give(large);
  t.equal(pool.take(200_000).buffer, large.buffer, 'the large one displaced the small one');
  t.equal(pool.take(500).buffer, medium.buffer, 'the smallest that fits');
  t.not(pool.take(500).buffer, small.buffer, 'the small one was dropped');
});

t.test('JsonBytes with a pool writes into its buffers and hands back the ones it outgrows', async (t) => {
  const pool = new ReplyBuffers(4);
  const out = new JsonBytes(64, pool).raw('[');
  for (let i = 0; i < 1_000; i++) out.raw(i === 0 ? '' : ',').string(`node-${i}`);
  const bytes = out.raw(']').done();
  t.same(
    JSON.parse(bytes.toString()),
    Array.from({ length: 1_000 }, (_, i) => `node-${i}`),
  );
  const reused = pool.take(64);
  t.not(reused.buffer, bytes.buffer, 'the buffer holding the reply is still on loan');
  t.ok(reused.length < bytes.buffer.byteLength, 'an outgrown buffer came back to the pool');
});
