/**
 * The pool controller over a fake cluster and fake targets: it scales a target that is off the
 * pool's count (and only then), writes status only when it changed, recounts pods without reading
 * targets, keeps going past a pool whose target fails, holds an ambiguous selector, does nothing as
 * a follower, its conditions say which autoscaler stage held the count, and the actuator's decisions
 * stand in for its dry runs. The real API server
 * runs it in test/e2e/pools.test.ts.
 */
import { pino } from 'pino';
import t from 'tap';
import type { Pod } from '../../src/api/kubernetes.ts';
import { Labels, type AgentPool, type ScaleTargetRef } from '../../src/api/neuronetes.ts';
import { Actuator } from '../../src/autoscaling/actuator.ts';
import type { Decision } from '../../src/autoscaling/decision.ts';
import { ClusterState } from '../../src/cluster/cluster-view.ts';
import { PoolController, type PoolSource } from '../../src/pools/pool-controller.ts';
import type { PoolEvent } from '../../src/pools/pool-events.ts';
import { PoolInspector } from '../../src/pools/pool-inspector.ts';
import { explainPool } from '../../src/pools/pool-why.ts';
import { ScaleTargetError, type ForeignPod, type ScaleTargetApi, type TargetScale } from '../../src/pools/scale-target.ts';
import { STATIC_ONLY, testApp } from '../autoscaling/helpers.ts';

const NS = 'agents';
const deployment = (name: string): ScaleTargetRef => ({ apiVersion: 'apps/v1', kind: 'Deployment', name });

function pool(name: string, replicas: number, status: AgentPool['status'] = {}): AgentPool {
  return {
    metadata: { name, namespace: NS, uid: `uid-${name}` },
    spec: { agentClassRef: { name: 'c' }, minReplicas: 1, maxReplicas: 10, replicas, scaleTargetRef: deployment(name) },
    status,
  };
}

function pod(name: string, poolName: string, state: 'ready' | 'starting' | 'unschedulable'): Pod {
  const conditions =
    state === 'ready'
      ? [{ type: 'Ready', status: 'True' }]
      : state === 'unschedulable'
        ? [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 needs 1×H100.' }]
        : [];
  return {
    metadata: { name, namespace: NS, labels: { [Labels.agentPool]: poolName } },
    spec: { ...(state !== 'unschedulable' ? { nodeName: 'n1' } : {}) },
    status: { phase: 'Running', conditions },
  } as Pod;
}

function decision(name: string, stages: Partial<Decision['stages'][number]>[], desired: number): Decision {
  return {
    pool: { namespace: NS, name },
    time: new Date().toISOString(),
    dryRun: true,
    currentReplicas: 2,
    desiredReplicas: desired,
    placeableReplicas: null,
    shortfall: null,
    reason: 'ScaleUpLimit',
    message: '',
    metrics: [{ type: 'queue-depth', kind: 'additive', target: '10', targetValue: 10, value: 80, status: 'ok', source: 'static', ratio: 4, replicas: 8 }],
    providers: [],
    recommendations: [],
    combine: { policy: 'max', chosen: null, replicas: null, message: '' },
    stages: stages.map((s) => ({ stage: 'raw', input: 2, output: 2, reason: 'Recommended', message: '', ...s })),
    nextScaleUpAt: null,
    nextScaleDownAt: null,
  };
}

class FakeTargets implements ScaleTargetApi {
  readonly scales = new Map<string, TargetScale>();
  readonly writes: string[] = [];
  reads = 0;
  missing = new Set<string>();
  failWrites = new Set<string>();
  foreign = new Map<string, ForeignPod[]>();
  async getScale(_ns: string, ref: ScaleTargetRef): Promise<TargetScale> {
    this.reads++;
    if (this.missing.has(ref.name)) throw new ScaleTargetError('TargetNotFound', `Deployment ${NS}/${ref.name} (apps/v1) does not exist`);
    return this.scales.get(ref.name) ?? { specReplicas: 1, statusReplicas: 1, selector: `app=${ref.name}` };
  }
  async setReplicas(_ns: string, ref: ScaleTargetRef, replicas: number): Promise<void> {
    if (this.failWrites.has(ref.name)) throw new ScaleTargetError('Forbidden', `scaling to ${replicas} Deployment ${ref.name} is not allowed: 403`);
    this.writes.push(`${ref.name}=${replicas}`);
    const s = this.scales.get(ref.name);
    this.scales.set(ref.name, { specReplicas: replicas, statusReplicas: s?.statusReplicas ?? 1, selector: s?.selector ?? `app=${ref.name}` });
  }
  async podTemplateLabels(_ns: string, ref: ScaleTargetRef): Promise<Record<string, string>> {
    return { [Labels.agentPool]: ref.name };
  }
  async foreignPods(_ns: string, _selector: string, poolName: string): Promise<ForeignPod[]> {
    return this.foreign.get(poolName) ?? [];
  }
}

interface Harness {
  controller: PoolController;
  targets: FakeTargets;
  statuses: { pool: string; status: Partial<NonNullable<AgentPool['status']>> }[];
  events: { pool: string; event: PoolEvent }[];
  set(pools: AgentPool[], pods: Pod[]): void;
}

function harness(pools: AgentPool[], pods: Pod[], options: { leader?: () => boolean; decide?: (name: string) => Decision } = {}): Harness {
  let view = new ClusterState({ nodes: [], pods, agentPools: pools, agentClasses: [], models: [] }, 1);
  const statuses: Harness['statuses'] = [];
  const events: Harness['events'] = [];
  const targets = new FakeTargets();
  const cluster: PoolSource = {
    view: () => view,
    isLeader: options.leader ?? (() => true),
    onChange: () => () => undefined,
    patchPoolStatus: async (namespace, name, status) => void statuses.push({ pool: `${namespace}/${name}`, status }),
  };
  const decide = options.decide ?? ((name: string) => decision(name, [{ output: 2 }], 2));
  const inspector = new PoolInspector({ view: () => view, targets, autoscaler: { decide: async (r) => decide('name' in r.pool ? r.pool.name : '') } });
  const controller = new PoolController({
    cluster,
    inspector,
    targets,
    events: { record: async (p, event) => void events.push({ pool: p.metadata.name, event }) },
    intervalMs: 1_000,
    log: pino({ level: 'silent' }),
  });
  return {
    controller,
    targets,
    statuses,
    events,
    set: (p, q) => (view = new ClusterState({ nodes: [], pods: q, agentPools: p, agentClasses: [], models: [] }, 2)),
  };
}

t.test('scales a target that is off the count, once; status from the pods', async (t) => {
  const h = harness([pool('chat', 3)], [pod('a', 'chat', 'ready'), pod('b', 'chat', 'starting'), pod('c', 'chat', 'unschedulable')]);
  t.same(Object.fromEntries(await h.controller.runOnce()), { 'agents/chat': 'scaled' });
  t.same(h.targets.writes, ['chat=3']);
  const status = h.statuses[0]?.status;
  t.match(status, { replicas: 3, readyReplicas: 1, selector: `${Labels.agentPool}=chat` });
  t.match(status?.conditions, [
    { type: 'Ready', status: 'False', reason: 'PodsUnschedulable', message: '1 of 3 ready; 1 cannot be placed (c): 0/2 nodes are available: 2 needs 1×H100.' },
    { type: 'Scaling', status: 'False', reason: 'Steady' },
    { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale' },
    { type: 'MetricsAvailable', status: 'True', reason: 'ValidMetricsFound', message: 'queue-depth=80 (target 10)' },
  ]);
  t.match(
    h.events.map((e) => e.event),
    [
      { type: 'Normal', reason: 'Rescaled', message: /Deployment chat: 1 → 3 replicas/ },
      { type: 'Warning', reason: 'PodsUnschedulable' },
    ],
  );

  // The status landed: the next round writes nothing and scales nothing.
  h.set([pool('chat', 3, status)], [pod('a', 'chat', 'ready'), pod('b', 'chat', 'starting'), pod('c', 'chat', 'unschedulable')]);
  t.same(Object.fromEntries(await h.controller.runOnce()), { 'agents/chat': 'unchanged' });
  t.equal(h.statuses.length, 1, 'no second status write');
  t.equal(h.events.length, 2, 'no second event');
});

t.test('a recount reads no target; a changed spec does', async (t) => {
  const h = harness([pool('chat', 1)], [pod('a', 'chat', 'ready')]);
  await h.controller.runOnce();
  const reads = h.targets.reads;
  h.set([pool('chat', 1)], [pod('a', 'chat', 'ready'), pod('b', 'chat', 'ready')]);
  await h.controller.runOnce(false);
  t.equal(h.targets.reads, reads, 'pod change: counted from the view only');
  t.match(h.statuses.at(-1)?.status, { replicas: 2, readyReplicas: 2 });
  h.set([pool('chat', 4)], [pod('a', 'chat', 'ready'), pod('b', 'chat', 'ready')]);
  await h.controller.runOnce(false);
  t.equal(h.targets.reads, reads + 1, 'spec.replicas changed: the target is read again');
  t.same(h.targets.writes, ['chat=4']);
});

t.test('a failing target shows on its pool; the other pools still scale', async (t) => {
  const h = harness([pool('ghost', 2), pool('locked', 2), pool('fine', 2)], []);
  h.targets.missing.add('ghost');
  h.targets.failWrites.add('locked');
  const results = Object.fromEntries(await h.controller.runOnce());
  t.same(results, { 'agents/ghost': 'failed', 'agents/locked': 'failed', 'agents/fine': 'scaled' });
  t.same(h.targets.writes, ['fine=2']);
  const conditions = (name: string): unknown => h.statuses.find((s) => s.pool === `agents/${name}`)?.status.conditions;
  t.match(conditions('ghost'), [
    { type: 'Ready', status: 'False', reason: 'TargetNotFound' },
    {},
    { type: 'AbleToScale', status: 'False', reason: 'TargetNotFound' },
  ]);
  t.match(conditions('locked'), [
    { type: 'Ready', reason: 'Forbidden' },
    {},
    { type: 'AbleToScale', status: 'False', reason: 'Forbidden', message: /not allowed: 403/ },
  ]);
  t.same(
    h.events.filter((e) => e.event.type === 'Warning').map((e) => `${e.pool}:${e.event.reason}`),
    ['ghost:TargetNotFound', 'locked:Forbidden'],
    'one warning each: Ready repeating AbleToScale is not a second Event',
  );
});

t.test("a selector over another pool's pods: no scale, a condition naming the pool", async (t) => {
  const h = harness([pool('greedy', 4)], []);
  h.targets.foreign.set('greedy', [{ name: 'chat-a', pool: 'chat' }]);
  t.same(Object.fromEntries(await h.controller.runOnce()), { 'agents/greedy': 'unchanged' });
  t.same(h.targets.writes, []);
  t.match(h.statuses[0]?.status.conditions?.[2], {
    type: 'AbleToScale',
    status: 'False',
    reason: 'AmbiguousSelector',
    message: /also matches pods of pool chat \(chat-a\)/,
  });
});

t.test('a follower writes nothing; leadership lost mid-round stops the round', async (t) => {
  const follower = harness([pool('a', 3)], [], { leader: () => false });
  t.equal((await follower.controller.runOnce()).size, 0);
  t.same([follower.targets.writes, follower.statuses, follower.events], [[], [], []]);
  let calls = 0;
  const losing = harness([pool('a', 3), pool('b', 3)], [], { leader: () => ++calls === 1 });
  t.same([...(await losing.controller.runOnce()).keys()], ['agents/a']);
});

t.test('the stage that held the autoscaler back is in Scaling and in /why', async (t) => {
  const held = (name: string): Decision =>
    decision(
      name,
      [
        { stage: 'raw', output: 8 },
        { stage: 'rate-limits', input: 8, output: 6, reason: 'ScaleUpLimit', message: 'max(+100 %, +4) per 15s' },
      ],
      6,
    );
  const h = harness([pool('busy', 2)], [pod('a', 'busy', 'ready'), pod('b', 'busy', 'ready')], { decide: held });
  await h.controller.runOnce();
  t.match(h.statuses[0]?.status.conditions?.[1], {
    type: 'Scaling',
    status: 'False',
    reason: 'ScaleUpLimit',
    message: 'at 2; the metrics ask for 8, rate-limits holds 6: max(+100 %, +4) per 15s',
  });

  const inspector = new PoolInspector({
    view: () =>
      new ClusterState(
        { nodes: [], pods: [pod('a', 'busy', 'ready'), pod('b', 'busy', 'ready')], agentPools: [pool('busy', 2)], agentClasses: [], models: [] },
        1,
      ),
    targets: h.targets,
    autoscaler: { decide: async () => held('busy') },
  });
  const why = explainPool(await inspector.inspect(pool('busy', 2)), 8, new Date().toISOString());
  t.same(why.answer, [
    'the autoscaler decides 6, not 8: the metrics ask for 8, its rate-limits stage holds 6 (ScaleUpLimit: max(+100 %, +4) per 15s)',
    'spec.replicas is 2: the decision has not been written to the pool (the actuator or KEDA writes it)',
  ]);
  t.match(why.autoscaler, { desiredReplicas: 6, wantedReplicas: 8, heldBackBy: { stage: 'rate-limits', reason: 'ScaleUpLimit' } });
});

t.test("the actuator's decisions reach the controller: no dry run, and the Rescaled event says why", async (t) => {
  const { app } = await testApp(STATIC_ONLY);
  t.teardown(() => app.close());
  const grow = (replicas: number): AgentPool => ({
    ...pool('grow', replicas),
    metadata: { name: 'grow', namespace: NS, uid: 'uid-grow', annotations: { 'metrics.neuronetes.io/queue-depth': '65' } },
    spec: { ...pool('grow', replicas).spec, maxReplicas: 20, autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } },
  });
  let view = new ClusterState(
    { nodes: [], pods: [pod('a', 'grow', 'ready'), pod('b', 'grow', 'ready')], agentPools: [grow(2)], agentClasses: [], models: [] },
    1,
  );
  Object.assign(app.neuronetes.cluster, { view: () => view });
  const targets = new FakeTargets();
  targets.scales.set('grow', { specReplicas: 2, statusReplicas: 2, selector: 'app=grow' });
  let dryRuns = 0;
  const inspector = new PoolInspector({
    view: () => view,
    targets,
    autoscaler: {
      decide: (r) => {
        dryRuns++;
        return app.neuronetes.autoscaler.decide(r);
      },
    },
  });
  const events: PoolEvent[] = [];
  const log = pino({ level: 'silent' });
  const writable = { view: () => view, isLeader: () => true, patchPoolStatus: async () => undefined };
  const controller = new PoolController({
    cluster: { ...writable, onChange: () => () => undefined },
    inspector,
    targets,
    events: { record: async (_p, e) => void events.push(e) },
    intervalMs: 1_000,
    log,
  });
  const scalePool = async (_ns: string, _name: string, replicas: number): Promise<void> => {
    view = new ClusterState({ nodes: [], pods: [], agentPools: [grow(replicas)], agentClasses: [], models: [] }, 2);
  };
  const actuator = new Actuator({
    autoscaler: app.neuronetes.autoscaler,
    cluster: { ...writable, scalePool },
    intervalMs: 1_000,
    log,
    metrics: app.neuronetes.metrics,
    onDecision: (d) => controller.observeDecision(d),
  });
  await actuator.runOnce();
  await controller.runOnce();
  t.same(targets.writes, ['grow=6'], 'the actuator set spec.replicas to 6; the controller passed it on');
  t.equal(dryRuns, 0, "the actuator's decision stood in for a dry run");
  t.match(events[0], { reason: 'Rescaled', message: /Deployment grow: 2 → 6 replicas: ScaleUpLimit, / });
});
