/**
 * GET /pools/<namespace>/<name>/why through fastify on the example cluster (snapshot source, no API
 * server): the pods, the autoscaler's decision and held-back stage, a pool without a target said so,
 * bad query values and unknown pools refused. With a real target: test/e2e/pools.test.ts.
 */
import t from 'tap';
import type { PoolWhy } from '../../src/pools/pool-why.ts';
import { STATIC_ONLY, testApp } from '../autoscaling/helpers.ts';

t.test('a pool of the example cluster explains itself', async (t) => {
  const { app } = await testApp(STATIC_ONLY);
  t.teardown(() => app.close());
  const reply = await app.inject({ method: 'GET', url: '/pools/agents/code-assistant/why?replicas=8' });
  t.equal(reply.statusCode, 200);
  const why = reply.json<PoolWhy>();
  const decided = (await app.inject({ method: 'GET', url: '/autoscaler/pools/agents/code-assistant?dryRun=true' })).json<{ desiredReplicas: number }>();
  t.match(why, { pool: { namespace: 'agents', name: 'code-assistant' }, replicas: 8, target: { ok: false, reason: 'NoScaleTarget', ref: null } });
  t.equal(why.autoscaler.desiredReplicas, decided.desiredReplicas, 'the same decision as the autoscaler endpoint (a dry run)');
  t.equal(why.answer[0], 'the target cannot be scaled: spec.scaleTargetRef is not set: nothing turns spec.replicas into pods');
  t.ok(why.metrics.length > 0 && why.metrics.every((m) => m.status === 'ok'), 'the static provider answers every metric');
  t.same(
    why.conditions.map((c) => c.type),
    ['Ready', 'Scaling', 'AbleToScale', 'MetricsAvailable', 'CapacityLimited'],
  );
});

t.test('bad input: a non-numeric replicas, an unknown query key, an unknown pool', async (t) => {
  const { app } = await testApp(STATIC_ONLY);
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'GET', url: '/pools/agents/code-assistant/why?replicas=many' })).statusCode, 400);
  t.equal((await app.inject({ method: 'GET', url: '/pools/agents/code-assistant/why?replica=3' })).statusCode, 400);
  const unknown = await app.inject({ method: 'GET', url: '/pools/agents/nobody/why' });
  t.equal(unknown.statusCode, 404);
  t.match(unknown.json(), { code: 'NN_UNKNOWN_POOL', message: 'no AgentPool agents/nobody in the cluster source' });
});
