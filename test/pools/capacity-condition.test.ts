/**
 * CapacityLimited on a pool: from the decision's capacity stage (True on a shortfall, False when all
 * fit or nothing was asked for, Unknown when it could not count), its Warning Event only when it
 * turns True, and GET /pools/…/why with the capacity stage's answer. Against the real API server:
 * test/e2e/capacity.test.ts.
 */
import t from 'tap';
import { Type } from 'typebox';
import { gpuFitPlugin } from '../../extenders/builtin/scheduler/gpu-fit.ts';
import type { AgentPool, Condition } from '../../src/api/neuronetes.ts';
import type { Decision, StageReport } from '../../src/autoscaling/decision.ts';
import { definePlugin } from '../../src/plugins/definition.ts';
import { conditionEvents, poolConditions, type PoolInspection } from '../../src/pools/pool-conditions.ts';
import type { PoolWhy } from '../../src/pools/pool-why.ts';
import { agentPool, gpuNode } from '../../src/testing/builders.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const NOW = '2030-01-01T00:00:00.000Z';

function inspection(capacity: Partial<StageReport> | undefined): PoolInspection {
  const pool = agentPool({ name: 'chat', namespace: 'agents' });
  const stages: StageReport[] = [{ stage: 'raw', input: 2, output: 8, reason: 'Recommended', message: '' }];
  if (capacity !== undefined) stages.push({ stage: 'capacity', input: 8, output: 8, reason: 'CapacityAvailable', message: '', ...capacity });
  const decision: Decision = {
    pool: { namespace: 'agents', name: 'chat' },
    time: NOW,
    dryRun: true,
    currentReplicas: 2,
    desiredReplicas: stages.at(-1)?.output ?? 2,
    placeableReplicas: null,
    shortfall: null,
    reason: 'Recommended',
    message: '',
    metrics: [],
    providers: [],
    recommendations: [],
    combine: { policy: 'max', chosen: null, replicas: null, message: '' },
    stages,
    nextScaleUpAt: null,
    nextScaleDownAt: null,
  };
  return {
    pool,
    desired: 2,
    warm: 0,
    pods: { replicas: 2, readyReplicas: 2, prewarmedReplicas: 0, pending: [], selector: '' },
    target: { ok: false, reason: 'NoScaleTarget', message: '' },
    autoscaler: { decision },
  };
}

const capacityLimited = (i: PoolInspection, previous: Condition[] = []): Condition | undefined =>
  poolConditions(i, previous, NOW).find((c) => c.type === 'CapacityLimited');

t.test('CapacityLimited follows the capacity stage', async (t) => {
  const short = 'wants 8, 5 can be placed: 3 more need 1×H100 80Gi each; gpu-fit on 2 nodes: …';
  t.match(capacityLimited(inspection({ reason: 'CapacityShort', message: short })), { status: 'True', reason: 'CapacityShort', message: short });
  t.match(capacityLimited(inspection({ reason: 'CapacityLimited', output: 5, message: short })), { status: 'True', reason: 'CapacityLimited' });
  t.match(capacityLimited(inspection({ reason: 'CapacityAvailable', message: 'all 6 more can be placed now' })), {
    status: 'False',
    reason: 'CapacityAvailable',
    message: 'all 6 more can be placed now',
  });
  t.match(capacityLimited(inspection({ reason: 'Skipped' })), { status: 'False', reason: 'NotScalingUp' });
  t.match(capacityLimited(inspection({ reason: 'CapacityUnknown', message: 'capacity unknown: x' })), { status: 'Unknown', reason: 'CapacityUnknown' });
  t.match(capacityLimited({ ...inspection(undefined), autoscaler: { error: 'boom' } }), { status: 'Unknown', reason: 'DecisionFailed', message: 'boom' });
});

t.test('a Warning Event when it turns True or changes reason, not while it holds', async (t) => {
  const cond = (status: string, reason: string, message = 'm'): Condition[] => [{ type: 'CapacityLimited', status, reason, message }];
  t.same(conditionEvents([], cond('True', 'CapacityShort', 'wants 8')), [{ type: 'Warning', reason: 'CapacityShort', message: 'wants 8' }]);
  t.same(conditionEvents(cond('False', 'CapacityAvailable'), cond('True', 'CapacityLimited')), [{ type: 'Warning', reason: 'CapacityLimited', message: 'm' }]);
  t.same(conditionEvents(cond('True', 'CapacityShort'), cond('True', 'CapacityLimited')), [{ type: 'Warning', reason: 'CapacityLimited', message: 'm' }]);
  t.same(conditionEvents(cond('True', 'CapacityShort', 'wants 8'), cond('True', 'CapacityShort', 'wants 9')), [], 'counts change; it still holds');
  t.same(conditionEvents(cond('True', 'CapacityShort'), cond('False', 'CapacityAvailable')), []);
});

t.test('GET /pools/…/why carries the capacity answer', async (t) => {
  const WANTS = 'test.neuronetes.io/wants';
  const wants = definePlugin({
    type: 'autoscaler',
    name: 'wants',
    config: Type.Object({}, { additionalProperties: false }),
    create: () => ({ getMetricNames: (): string[] => [], calculateReplicas: (_ctx, pool: AgentPool): number => Number(pool.metadata.annotations?.[WANTS]) }),
  });
  const pool = (name: string, requestUnplaceable: boolean): AgentPool => {
    const p = agentPool({
      name,
      namespace: 'agents',
      minReplicas: 1,
      maxReplicas: 20,
      replicas: 1,
      gpu: { count: 2 },
      spec: { autoscaling: { requestUnplaceable, behavior: { scaleUp: { maxChangeAbsolute: 20 } } } },
    });
    p.metadata.annotations = { [WANTS]: '6' };
    return p;
  };
  const { app } = await buildTestApp(t, {
    definitions: [wants, gpuFitPlugin],
    cluster: { nodes: [gpuNode({ name: 'n1', gpus: 4 })], pods: [], agentPools: [pool('asks', true), pool('holds', false)], agentClasses: [], models: [] },
  });
  const why = async (name: string): Promise<PoolWhy> => (await app.inject({ method: 'GET', url: `/pools/agents/${name}/why` })).json<PoolWhy>();
  const shortfall = 'wants 6, 3 can be placed: 3 more need 2×GPU each; gpu-fit on 1 node: needs 2×GPU, node has 0 free (4 of 4 in use)';

  const asks = await why('asks');
  t.match(asks.autoscaler, { desiredReplicas: 6, capacity: { reason: 'CapacityShort', placeableReplicas: 3, shortfall } });
  t.ok(
    asks.answer.some((line) => line.startsWith(`the cluster cannot place them all now: ${shortfall}`)),
    asks.answer.join('\n'),
  );
  t.match(
    asks.conditions.find((c) => c.type === 'CapacityLimited'),
    { status: 'True', reason: 'CapacityShort' },
  );

  const holds = await why('holds');
  t.match(holds.autoscaler, { desiredReplicas: 3, heldBackBy: { stage: 'capacity', reason: 'CapacityLimited', input: 6, output: 3 } });
  t.ok(
    holds.answer.some((line) => line.includes('its capacity stage holds 3 (CapacityLimited: wants 6, 3 can be placed')),
    holds.answer.join('\n'),
  );
});
