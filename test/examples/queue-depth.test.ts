/** The guide's queue-depth autoscaler: on its own through the kit, then chosen by the service. */
import t from 'tap';
import { agentPool, runAutoscaler } from 'neuronetes/testing';
import { queueDepth } from '../../extenders/examples/queue-depth.ts';
import { STATIC_ONLY, testApp } from '../autoscaling/helpers.ts';

const pool = agentPool({ name: 'q', minReplicas: 2, maxReplicas: 8 });

t.test('ceil(queue depth / perReplica), within the pool bounds', async (t) => {
  t.equal(await runAutoscaler(queueDepth, { pool, metrics: { 'queue-depth': 95 } }), 8, 'ceil(95 / 10) = 10, bounded by maxReplicas');
  t.equal(await runAutoscaler(queueDepth, { pool, metrics: { 'queue-depth': 45 } }), 5);
  t.equal(await runAutoscaler(queueDepth, { pool, metrics: { 'queue-depth': 45 }, config: { perReplica: 20 } }), 3);
  t.equal(await runAutoscaler(queueDepth, { pool, metrics: { 'queue-depth': 0 } }), 2, 'bounded by minReplicas');
  await t.rejects(runAutoscaler(queueDepth, { pool, metrics: {} }), /queue-depth is not known/);
});

t.test('perReplica must be positive: the service refuses the config', async (t) => {
  await t.rejects(runAutoscaler(queueDepth, { pool, metrics: { 'queue-depth': 1 }, config: { perReplica: 0 } }), {
    name: 'ConfigError',
    message: 'invalid config: autoscaler-plugins "queue-depth": config.perReplica is 0; it must be > 0',
  });
});

t.test('loaded through plugins:, it decides for a pool', async (t) => {
  const { app } = await testApp({
    ...STATIC_ONLY,
    plugins: ['neuronetes:examples/queue-depth'],
    'autoscaler-plugins': [
      { name: 'slo', enabled: false },
      { name: 'multi-metric', enabled: false },
      { name: 'queue-depth', config: { perReplica: 15 } },
    ],
  });
  t.teardown(() => app.close());
  const d = (
    await app.inject({
      method: 'POST',
      url: '/autoscaler/decide',
      payload: { pool: { namespace: 'agents', name: 'support-bot' }, metrics: { 'queue-depth': 45 }, dryRun: true },
    })
  ).json<{ desiredReplicas: number; combine: { chosen: string } }>();
  t.equal(d.combine.chosen, 'queue-depth');
  t.equal(d.desiredReplicas, 3);
});
