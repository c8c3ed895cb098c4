/**
 * Warm headroom (spec.prewarmPercent): the maths (ceil of the share, none at 0 replicas, never
 * above maxReplicas), what the controller scales the target to and reports (status.prewarmedReplicas,
 * conditions, the Rescaled Event), and a closed loop of actuator, controller and a Deployment that
 * creates what it is scaled to, in which the autoscaler holding its count must not climb: warm
 * replicas counted as current would be warmed again on top, round after round.
 */
import { pino } from 'pino';
import t from 'tap';
import type { Pod } from '../../src/api/kubernetes.ts';
import { Labels, type AgentPool } from '../../src/api/neuronetes.ts';
import { Actuator } from '../../src/autoscaling/actuator.ts';
import { ClusterState } from '../../src/cluster/cluster-view.ts';
import { PoolController } from '../../src/pools/pool-controller.ts';
import type { PoolEvent } from '../../src/pools/pool-events.ts';
import { PoolInspector } from '../../src/pools/pool-inspector.ts';
import { explainPool } from '../../src/pools/pool-why.ts';
import { autoscalerCounts, targetReplicas, warmReplicas } from '../../src/pools/prewarm.ts';
import type { ScaleTargetApi, TargetScale } from '../../src/pools/scale-target.ts';
import type { AutoscalerPlugin } from '../../src/plugins/types.ts';
import { runAutoscaler } from '../../src/testing/harness.ts';
import { STATIC_ONLY, testApp } from '../autoscaling/helpers.ts';

const NS = 'agents';

function pool(spec: Partial<AgentPool['spec']>, status?: AgentPool['status'], annotations?: Record<string, string>): AgentPool {
  return {
    metadata: { name: 'warm', namespace: NS, uid: 'uid-warm', ...(annotations !== undefined ? { annotations } : {}) },
    spec: {
      agentClassRef: { name: 'c' },
      minReplicas: 1,
      maxReplicas: 20,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'warm' },
      ...spec,
    },
    ...(status !== undefined ? { status } : {}),
  };
}

function pods(n: number, ready = n): Pod[] {
  return Array.from(
    { length: n },
    (_, i) =>
      ({
        metadata: { name: `warm-${i}`, namespace: NS, labels: { [Labels.agentPool]: 'warm' } },
        spec: { nodeName: 'n1' },
        status: { phase: 'Running', conditions: i < ready ? [{ type: 'Ready', status: 'True' }] : [] },
      }) as Pod,
  );
}

/** A Deployment's scale: whatever it is scaled to. */
class FakeTargets implements ScaleTargetApi {
  scale: TargetScale = { specReplicas: 1, statusReplicas: 1, selector: 'app=warm' };
  readonly writes: number[] = [];
  async getScale(): Promise<TargetScale> {
    return this.scale;
  }
  async setReplicas(_ns: string, _ref: unknown, replicas: number): Promise<void> {
    this.writes.push(replicas);
    this.scale = { ...this.scale, specReplicas: replicas };
  }
  async podTemplateLabels(): Promise<Record<string, string>> {
    return { [Labels.agentPool]: 'warm' };
  }
  async foreignPods(): Promise<[]> {
    return [];
  }
}

t.test('warm count: the ceiling of the share, none at 0 replicas, never above maxReplicas', async (t) => {
  const cases: [Partial<AgentPool['spec']>, number][] = [
    [{ replicas: 5 }, 0],
    [{ replicas: 5, prewarmPercent: 0 }, 0],
    [{ replicas: 5, prewarmPercent: 20 }, 1],
    [{ replicas: 5, prewarmPercent: 30 }, 2],
    [{ replicas: 1, prewarmPercent: 1 }, 1],
    [{ replicas: 0, prewarmPercent: 50 }, 0],
    [{ minReplicas: 4, prewarmPercent: 50 }, 2],
    [{ replicas: 18, prewarmPercent: 50 }, 2],
    [{ replicas: 20, prewarmPercent: 50 }, 0],
  ];
  for (const [spec, warm] of cases) {
    const p = pool(spec);
    t.equal(warmReplicas(p), warm, JSON.stringify(spec));
    t.equal(targetReplicas(p), (spec.replicas ?? spec.minReplicas ?? 1) + warm);
  }
});

t.test('the autoscaler counts: status without its warm part, and only that part', async (t) => {
  const spec = { replicas: 5, prewarmPercent: 40 }; // 2 warm
  t.same(autoscalerCounts(pool(spec, { replicas: 7, readyReplicas: 6 })), { replicas: 5, readyReplicas: 5 });
  t.same(autoscalerCounts(pool(spec, { replicas: 4, readyReplicas: 3 })), { replicas: 4, readyReplicas: 3 }, 'scaling up: nothing warm yet');
  t.same(autoscalerCounts(pool(spec, { replicas: 9, readyReplicas: 9 })), { replicas: 7, readyReplicas: 7 }, 'scaling down: pods beyond both stay counted');
  t.same(autoscalerCounts(pool({ replicas: 5 }, { replicas: 7, readyReplicas: 7 })), { replicas: 7, readyReplicas: 7 }, 'no prewarm: as before');
  t.same(autoscalerCounts(pool(spec)), { replicas: undefined, readyReplicas: undefined });
});

t.test("the plugin kit's runAutoscaler counts as the service does", async (t) => {
  const echo: AutoscalerPlugin = { name: () => 'echo', getMetricNames: () => [], calculateReplicas: (ctx) => ctx.currentReplicas * 100 + ctx.readyReplicas };
  t.equal(await runAutoscaler(echo, { pool: pool({ replicas: 5, prewarmPercent: 20 }, { replicas: 6, readyReplicas: 6 }), metrics: {} }), 505);
});

t.test('the controller scales the target to serving + warm and reports the warm replicas', async (t) => {
  let view = new ClusterState({ nodes: [], pods: pods(1), agentPools: [pool({ replicas: 5, prewarmPercent: 20 })], agentClasses: [], models: [] }, 1);
  const targets = new FakeTargets();
  const statuses: Partial<NonNullable<AgentPool['status']>>[] = [];
  const events: PoolEvent[] = [];
  const inspector = new PoolInspector({ view: () => view, targets, autoscaler: { decide: async () => Promise.reject(new Error('no autoscaler here')) } });
  const controller = new PoolController({
    cluster: { view: () => view, isLeader: () => true, onChange: () => () => undefined, patchPoolStatus: async (_ns, _name, s) => void statuses.push(s) },
    inspector,
    targets,
    events: { record: async (_p, e) => void events.push(e) },
    intervalMs: 1_000,
    log: pino({ level: 'silent' }),
  });
  await controller.runOnce();
  t.same(targets.writes, [6]);
  t.match(events[0], { reason: 'Rescaled', message: 'Deployment warm: 1 → 6 replicas (5 + 1 warm)' });
  t.match(statuses.at(-1)?.conditions, [
    { type: 'Ready', reason: 'ReplicasMissing' },
    { type: 'Scaling', reason: 'ScalingUp', message: '1 → 6 replicas (5 + 1 warm)' },
  ]);

  // Five ready and one starting: the serving count is ready, the warm one not yet.
  view = new ClusterState({ nodes: [], pods: pods(6, 5), agentPools: [pool({ replicas: 5, prewarmPercent: 20 })], agentClasses: [], models: [] }, 2);
  await controller.runOnce(false);
  t.match(statuses.at(-1), { replicas: 6, readyReplicas: 5, prewarmedReplicas: 0 });
  t.match(statuses.at(-1)?.conditions, [
    { type: 'Ready', status: 'True', message: '5 of 5 ready, 0 of 1 warm' },
    { type: 'Scaling', reason: 'Steady' },
  ]);

  view = new ClusterState({ nodes: [], pods: pods(6), agentPools: [pool({ replicas: 5, prewarmPercent: 20 })], agentClasses: [], models: [] }, 3);
  await controller.runOnce(false);
  t.match(statuses.at(-1), { replicas: 6, readyReplicas: 6, prewarmedReplicas: 1 });
  t.match(statuses.at(-1)?.conditions, [
    { type: 'Ready', status: 'True', message: '5 of 5 ready, 1 of 1 warm' },
    { type: 'Scaling', status: 'False', reason: 'Steady', message: 'at 6 replicas (5 + 1 warm), as desired' },
  ]);
  t.same(targets.writes, [6], 'the target is at its count: not scaled again');

  // The why route compares the target with the same count.
  const why = explainPool(await inspector.inspect(view.pools()[0] as AgentPool), undefined, new Date(0).toISOString());
  t.notOk(
    why.answer.some((a) => a.startsWith('the target is at')),
    why.answer.join('; '),
  );

  // Scaled to zero, the pool keeps nothing warm.
  view = new ClusterState(
    { nodes: [], pods: pods(6), agentPools: [pool({ minReplicas: 0, replicas: 0, prewarmPercent: 20 })], agentClasses: [], models: [] },
    4,
  );
  await controller.runOnce();
  t.same(targets.writes, [6, 0]);
  t.match(statuses.at(-1), { replicas: 6, prewarmedReplicas: 0 });
});

t.test('closed loop: an autoscaler holding its count does not climb on the warm replicas', async (t) => {
  const { app, clock } = await testApp(STATIC_ONLY);
  t.teardown(() => app.close());
  // A latency right at its target: every decision keeps the current count (HPA's tolerance).
  const annotations = { 'metrics.neuronetes.io/ttft-p95': '0.5' };
  const spec = { replicas: 5, prewarmPercent: 20, autoscaling: { metrics: [{ type: 'ttft-p95', target: '500ms' }] } };
  let current = pool(spec, undefined, annotations);
  let running: Pod[] = pods(5);
  let view = new ClusterState({ nodes: [], pods: running, agentPools: [current], agentClasses: [], models: [] }, 1);
  let version = 1;
  const publish = (): void => void (view = new ClusterState({ nodes: [], pods: running, agentPools: [current], agentClasses: [], models: [] }, ++version));
  Object.assign(app.neuronetes.cluster, { view: () => view });
  const targets = new FakeTargets();
  targets.scale = { specReplicas: 5, statusReplicas: 5, selector: 'app=warm' };
  const log = pino({ level: 'silent' });
  const patchPoolStatus = async (_ns: string, _name: string, status: Partial<NonNullable<AgentPool['status']>>): Promise<void> => {
    current = { ...current, status: { ...current.status, ...status } };
    publish();
  };
  const controller = new PoolController({
    cluster: { view: () => view, isLeader: () => true, onChange: () => () => undefined, patchPoolStatus },
    inspector: new PoolInspector({ view: () => view, targets, autoscaler: app.neuronetes.autoscaler }),
    targets,
    events: { record: async () => undefined },
    intervalMs: 1_000,
    log,
  });
  const actuator = new Actuator({
    autoscaler: app.neuronetes.autoscaler,
    cluster: {
      view: () => view,
      isLeader: () => true,
      patchPoolStatus,
      scalePool: async (_ns, _name, replicas) => {
        current = { ...current, spec: { ...current.spec, replicas } };
        publish();
      },
    },
    intervalMs: 1_000,
    log,
    metrics: app.neuronetes.metrics,
    onDecision: (d) => controller.observeDecision(d),
  });
  const served: number[] = [];
  for (let round = 0; round < 6; round++) {
    await actuator.runOnce();
    await controller.runOnce();
    // The Deployment creates what it is scaled to, and its pods become ready.
    running = pods(targets.scale.specReplicas);
    publish();
    await controller.runOnce(false);
    served.push(current.spec.replicas ?? -1);
    clock.now += 60_000;
  }
  t.same(served, [5, 5, 5, 5, 5, 5], 'spec.replicas holds');
  t.equal(targets.scale.specReplicas, 6, 'the target holds 5 + 1 warm');
  t.match(current.status, { replicas: 6, readyReplicas: 6, prewarmedReplicas: 1 });
});
