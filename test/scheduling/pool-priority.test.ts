/** The pool-priority plugin's allowEviction(), one preempt call's CycleState per test (preempt-verb.test.ts: through the app). */
import t from 'tap';
import { pino } from 'pino';
import { CycleState, type AgentPool, type Pod, type SchedulerContext } from 'neuronetes';
import { agentPool, clusterView, gpuNode, pod } from 'neuronetes/testing';
import { poolPriorityPlugin } from '../../extenders/builtin/scheduler/pool-priority.ts';
import { schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

const pool = (name: string, minReplicas: number, priority?: number): AgentPool =>
  agentPool({ name, minReplicas, ...(priority !== undefined ? { spec: { scheduling: { priority } } } : {}) });
const replica = (name: string, of: string, nodeName?: string, phase?: string): Pod =>
  pod({ name, pool: of, uid: `uid-${name}`, ...(nodeName !== undefined ? { nodeName } : {}), ...(phase !== undefined ? { phase } : {}) });

const n1 = gpuNode({ name: 'n1' });
const n2 = gpuNode({ name: 'n2' });
const pools = [pool('chat', 1, 10), pool('peer', 1, 10), pool('critical', 1, 100), pool('batch', 1), pool('train', 2, -5), pool('solo', 1, -5)];
const pods = [
  replica('batch-0', 'batch', 'n1'),
  replica('batch-1', 'batch', 'n2'),
  replica('peer-0', 'peer', 'n1'),
  replica('peer-1', 'peer', 'n2'),
  replica('critical-0', 'critical', 'n1'),
  replica('critical-1', 'critical', 'n2'),
  replica('chat-0', 'chat', 'n1'),
  replica('chat-1', 'chat', 'n2'),
  replica('train-0', 'train', 'n1'),
  replica('train-1', 'train', 'n1'),
  replica('train-2', 'train', 'n2'),
  // Not running: neither counts towards train's floor.
  replica('train-done', 'train', 'n1', 'Failed'),
  replica('train-pending', 'train'),
  replica('solo-0', 'solo', 'n1'),
  pod({ name: 'loose', uid: 'uid-loose', nodeName: 'n1' }),
  replica('orphan', 'gone', 'n1'),
];
const cluster = clusterView({ nodes: [n1, n2], pods, pools });
const byName = (name: string): Pod => pods.find((p) => p.metadata.name === name) ?? pod({ name });

const preemptor = pod({ name: 'chat-new', pool: 'chat', gpus: 1 });
const newCall = (config: Record<string, unknown> = {}): SchedulerContext => ({
  signal: new AbortController().signal,
  log: pino({ level: 'silent' }),
  config,
  cluster,
  state: new CycleState(),
});

t.test('a higher-priority pool may evict a lower-priority replica; default priority is 0', async (t) => {
  const plugin = schedulerPlugin(poolPriorityPlugin);
  t.same(plugin.allowEviction(newCall(), preemptor, byName('batch-0'), n1), { allowed: true }, 'chat (10) over batch (no priority: 0)');
  t.same(plugin.allowEviction(newCall(), pod({ name: 'batch-new', pool: 'batch' }), byName('train-0'), n1), { allowed: true }, 'batch (0) over train (-5)');
});

t.test('an equal- or higher-priority replica, or one of its own pool, is not evicted, and the trace says why', async (t) => {
  const plugin = schedulerPlugin(poolPriorityPlugin);
  t.same(plugin.allowEviction(newCall(), preemptor, byName('peer-0'), n1), {
    allowed: false,
    reason: 'pool default/peer (priority 10) is not below default/chat (priority 10)',
  });
  t.same(plugin.allowEviction(newCall(), preemptor, byName('critical-0'), n1), {
    allowed: false,
    reason: 'pool default/critical (priority 100) is not below default/chat (priority 10)',
  });
  t.match(plugin.allowEviction(newCall(), preemptor, byName('chat-0'), n1), {
    allowed: false,
    reason: /default\/chat \(priority 10\) is not below default\/chat/,
  });
  t.match(
    plugin.allowEviction(newCall(), pod({ name: 'batch-new', pool: 'batch' }), byName('batch-0'), n1),
    { allowed: false },
    'two pools at the default 0 are equal',
  );
});

t.test('never below minReplicas: only running replicas count', async (t) => {
  const plugin = schedulerPlugin(poolPriorityPlugin);
  t.same(plugin.allowEviction(newCall(), preemptor, byName('solo-0'), n1), {
    allowed: false,
    reason: 'pool default/solo would drop below minReplicas 1 (1 running)',
  });
});

t.test('victims on one node add up in one call; another node is an alternative, and the next call starts afresh', async (t) => {
  const plugin = schedulerPlugin(poolPriorityPlugin);
  const ctx = newCall();
  t.same(plugin.allowEviction(ctx, preemptor, byName('train-0'), n1), { allowed: true }, 'train: 3 running, min 2');
  t.same(plugin.allowEviction(ctx, preemptor, byName('train-1'), n1), {
    allowed: false,
    reason: 'pool default/train would drop below minReplicas 2 (3 running, 1 already let go on n1)',
  });
  t.same(plugin.allowEviction(ctx, preemptor, byName('train-2'), n2), { allowed: true }, 'kube-scheduler evicts on one node only');
  t.same(plugin.allowEviction(newCall(), preemptor, byName('train-1'), n1), { allowed: true });
});

t.test('a preemptor of no pool: PriorityClass decided, the floor still holds', async (t) => {
  const plugin = schedulerPlugin(poolPriorityPlugin);
  const plain = pod({ name: 'job', gpus: 1 });
  t.same(plugin.allowEviction(newCall(), plain, byName('critical-0'), n1), { allowed: true });
  t.match(plugin.allowEviction(newCall(), plain, byName('solo-0'), n1), { allowed: false, reason: /below minReplicas 1/ });
});

t.test('victims of no pool, or of a pool the extender does not know: nonPoolVictims', async (t) => {
  const allow = schedulerPlugin(poolPriorityPlugin);
  t.same(allow.allowEviction(newCall(), preemptor, byName('loose'), n1), { allowed: true }, 'allow by default');
  t.same(allow.allowEviction(newCall(), preemptor, byName('orphan'), n1), { allowed: true });
  const deny = schedulerPlugin(poolPriorityPlugin, { nonPoolVictims: 'deny' });
  t.same(deny.allowEviction(newCall(), preemptor, byName('loose'), n1), { allowed: false, reason: 'belongs to no pool (nonPoolVictims: deny)' });
  t.same(deny.allowEviction(newCall(), preemptor, byName('orphan'), n1), {
    allowed: false,
    reason: 'belongs to default/gone, a pool the extender does not know (nonPoolVictims: deny)',
  });
  t.throws(() => schedulerPlugin(poolPriorityPlugin, { nonPoolVictims: 'maybe' }), /nonPoolVictims/);
});

t.test('PodDisruptionBudgets: pool replicas on a node kube-scheduler counts violations on stay, unless pdbViolations: allow', async (t) => {
  const violating = (victim: Pod, pdbViolations: number): { victims: Pod[]; pdbViolations: number } => ({ victims: [victim], pdbViolations });
  const deny = schedulerPlugin(poolPriorityPlugin);
  t.same(deny.allowEviction(newCall(), preemptor, byName('batch-0'), n1, violating(byName('batch-0'), 1)), {
    allowed: false,
    reason: 'kube-scheduler counts 1 PodDisruptionBudget violation on n1 (pdbViolations: deny)',
  });
  t.match(
    deny.allowEviction(newCall(), pod({ name: 'job', gpus: 1 }), byName('critical-0'), n1, violating(byName('critical-0'), 2)),
    { allowed: false, reason: /counts 2 PodDisruptionBudget violations on n1/ },
    'a preemptor of no pool is held to PDBs too',
  );
  t.same(deny.allowEviction(newCall(), preemptor, byName('batch-0'), n1, violating(byName('batch-0'), 0)), { allowed: true }, 'no violation: as before');
  t.same(deny.allowEviction(newCall(), preemptor, byName('loose'), n1, violating(byName('loose'), 1)), { allowed: true }, 'pods of no pool: nonPoolVictims');
  t.match(
    deny.allowEviction(newCall(), preemptor, byName('peer-0'), n1, violating(byName('peer-0'), 1)),
    { reason: /is not below/ },
    'priority says why first',
  );
  const allow = schedulerPlugin(poolPriorityPlugin, { pdbViolations: 'allow' });
  t.same(allow.allowEviction(newCall(), preemptor, byName('batch-0'), n1, violating(byName('batch-0'), 1)), { allowed: true });
  t.match(
    allow.allowEviction(newCall(), preemptor, byName('solo-0'), n1, violating(byName('solo-0'), 1)),
    { reason: /below minReplicas 1/ },
    'the floor still holds',
  );
  t.throws(() => schedulerPlugin(poolPriorityPlugin, { pdbViolations: 'sometimes' }), /pdbViolations/);
});

t.test('replicas being deleted do not hold up the floor; evicting one again costs its pool nothing', async (t) => {
  const deleting = (p: Pod): Pod => ({ ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
  // batch: 3 bound (min 1), of which one kube-scheduler already preempted and another is draining.
  const batch = [deleting(replica('batch-0', 'batch', 'n1')), replica('batch-1', 'batch', 'n1'), deleting(replica('batch-2', 'batch', 'n2'))];
  const view = clusterView({ nodes: [n1, n2], pods: batch, pools });
  const plugin = schedulerPlugin(poolPriorityPlugin);
  const call = (): SchedulerContext => ({ ...newCall(), cluster: view });
  t.same(plugin.allowEviction(call(), preemptor, batch[1] as Pod, n1), {
    allowed: false,
    reason: 'pool default/batch would drop below minReplicas 1 (1 running, 2 being deleted)',
  });
  t.same(plugin.allowEviction(call(), preemptor, batch[0] as Pod, n1), { allowed: true }, 'already going');
  t.match(plugin.allowEviction(call(), pod({ name: 'batch-new', pool: 'batch' }), batch[0] as Pod, n1), { allowed: false }, 'priority still says no');
});
