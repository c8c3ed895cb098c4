/**
 * Filter and prioritize replies are written into pooled buffers that the next replies reuse once a
 * response is out. Over real HTTP with many calls in flight, every reply must still be exactly the
 * one its request deserves.
 */
import t from 'tap';
import { Pool } from 'undici';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import { agentPool, namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const nodes = Array.from({ length: 400 }, (_, i) => node(`node-${String(i).padStart(4, '0')}`, { rank: String(i % 7) }));
const cluster = { nodes, pods: [], agentPools: [agentPool('chat')], agentClasses: [], models: [] };
/** Each pod rejects the ranks its name ends with, and scores by rank: every request has its own answer. */
const plugin: SchedulerPlugin = {
  name: () => 'rank',
  filter: (_c, p, n) =>
    !(p.metadata.name ?? '').endsWith(n.metadata.labels?.['rank'] ?? '-') || {
      passed: false,
      reason: `rank ${n.metadata.labels?.['rank']} is not for ${p.metadata.name}`,
    },
  score: (_c, p, n) => (Number(n.metadata.labels?.['rank']) * 13 + (p.metadata.name ?? '').length) % 101,
};

t.test('concurrent replies over real HTTP each carry their own bytes', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [plugin] }, cluster });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const client = new Pool(`http://127.0.0.1:${address.port}`, { connections: 8 });
  t.teardown(() => client.close());

  const calls = Array.from({ length: 48 }, (_, i) => {
    const names = nodes.slice(0, 50 + ((i * 37) % 350)).map((n) => n.metadata.name);
    return { url: `/scheduler/${i % 3 === 0 ? 'prioritize' : 'filter'}`, payload: JSON.stringify(namesArgs(pod(`chat-${i}`, { pool: 'chat' }), names)) };
  });
  const expected = await Promise.all(
    calls.map(async ({ url, payload }) => (await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } })).body),
  );
  for (let round = 0; round < 3; round++) {
    const bodies = await Promise.all(
      calls.map(async ({ url, payload }) => {
        const res = await client.request({
          method: 'POST',
          path: url,
          body: payload,
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.timeout(10_000),
        });
        return res.body.text();
      }),
    );
    const wrong = bodies.map((b, i) => (b === expected[i] ? -1 : i)).filter((i) => i >= 0);
    t.same(wrong, [], `round ${round}: all ${calls.length} replies are their own`);
  }
});
