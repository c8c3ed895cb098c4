/** The pool-priority built-in through the real app: kube-scheduler's preempt call, the victims it keeps, and the trace's reasons. */
import t from 'tap';
import type { AgentPool, Pod } from 'neuronetes';
import { agentPool, gpuNode, pod } from 'neuronetes/testing';
import { poolPriorityPlugin } from '../../extenders/builtin/scheduler/pool-priority.ts';
import type { ExtenderPreemptionArgs } from '../../src/api/extender.ts';
import type { SchedulerTrace } from '../../src/scheduling/scheduler-trace.ts';
import { buildTestApp, type Teardown } from '../helpers/test-app.ts';

const pool = (name: string, minReplicas: number, priority?: number): AgentPool =>
  agentPool({ name, minReplicas, gpu: { count: 1 }, ...(priority !== undefined ? { spec: { scheduling: { priority } } } : {}) });
const replica = (name: string, of: string | undefined, nodeName: string): Pod =>
  pod({ name, uid: `uid-${name}`, nodeName, gpus: 1, ...(of !== undefined ? { pool: of } : {}) });

// chat (10) preempts; peer is its equal; batch (0, the default) and train (-1) rank below it.
const pools = [pool('chat', 1, 10), pool('peer', 1, 10), pool('batch', 1), pool('train', 2, -1), pool('solo', 1, 0)];
const pods = [
  replica('batch-0', 'batch', 'n1'),
  replica('batch-1', 'batch', 'n2'),
  replica('peer-0', 'peer', 'n2'),
  replica('solo-0', 'solo', 'n3'),
  replica('train-0', 'train', 'n4'),
  replica('train-1', 'train', 'n4'),
  replica('train-2', 'train', 'n1'),
  replica('loose', undefined, 'n5'),
];
const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => gpuNode({ name, gpus: 2 }));
const cluster = { nodes, pods, agentPools: pools, agentClasses: [], models: [] };
const preemptor = pod({ name: 'chat-new', pool: 'chat', uid: 'uid-chat-new', gpus: 1 });

/** kube-scheduler's NumPDBViolations by node; 0 where not given. */
type Violations = Record<string, number>;

const metaVictims = (byNode: Record<string, string[]>, pdb: Violations): NonNullable<ExtenderPreemptionArgs['NodeNameToMetaVictims']> =>
  Object.fromEntries(
    Object.entries(byNode).map(([node, names]) => [node, { Pods: names.map((n) => ({ UID: `uid-${n}` })), NumPDBViolations: pdb[node] ?? 0 }]),
  );

/** The full-pod form kube-scheduler sends when nodeCacheCapable is false. */
const fullVictims = (byNode: Record<string, string[]>, pdb: Violations): NonNullable<ExtenderPreemptionArgs['NodeNameToVictims']> =>
  Object.fromEntries(
    Object.entries(byNode).map(([node, names]) => [
      node,
      { Pods: pods.filter((p) => names.includes(p.metadata.name ?? '')), NumPDBViolations: pdb[node] ?? 0 },
    ]),
  );

async function preempt(
  t: Teardown,
  config: Record<string, unknown>,
  byNode: Record<string, string[]>,
  { pdb = {}, full = false }: { pdb?: Violations; full?: boolean } = {},
): Promise<{ result: unknown; trace: SchedulerTrace }> {
  const { app } = await buildTestApp(t, { definitions: [poolPriorityPlugin], cluster, config });
  const args: ExtenderPreemptionArgs = {
    Pod: preemptor,
    ...(full ? { NodeNameToVictims: fullVictims(byNode, pdb) } : { NodeNameToMetaVictims: metaVictims(byNode, pdb) }),
  };
  const res = await app.inject({ method: 'POST', url: '/scheduler/preempt', payload: args });
  if (res.statusCode !== 200) throw new Error(`preempt answered ${res.statusCode}: ${res.body}`);
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json<{ decisions: SchedulerTrace[] }>().decisions[0];
  if (trace === undefined) throw new Error('no trace entry');
  return { result: res.json(), trace };
}

t.test('a higher-priority pool evicts a lower-priority replica, never an equal one, never below minReplicas, one of two when only one may go', async (t) => {
  const { result, trace } = await preempt(t, {}, { n1: ['batch-0'], n2: ['peer-0'], n3: ['solo-0'], n4: ['train-0', 'train-1'] });
  t.same(result, { NodeNameToMetaVictims: { n1: { Pods: [{ UID: 'uid-batch-0' }], NumPDBViolations: 0 } } }, 'only n1 keeps its victim');
  t.same(trace.nodes['n1']?.victims, { kept: ['uid-batch-0'], vetoed: [] }, 'chat (10) over batch (default 0)');
  t.same(trace.nodes['n2']?.victims?.vetoed, [
    { uid: 'uid-peer-0', plugin: 'pool-priority', reason: 'pool default/peer (priority 10) is not below default/chat (priority 10)' },
  ]);
  t.same(trace.nodes['n3']?.victims?.vetoed, [
    { uid: 'uid-solo-0', plugin: 'pool-priority', reason: 'pool default/solo would drop below minReplicas 1 (1 running)' },
  ]);
  t.same(trace.nodes['n4']?.victims?.vetoed, [
    { uid: 'uid-train-1', plugin: 'pool-priority', reason: 'pool default/train would drop below minReplicas 2 (3 running, 1 already let go on n4)' },
  ]);
  t.match(trace.nodes['n4']?.reason, /^a victim was vetoed/, 'train-0 alone would not make room, so it stays too');
  t.equal(trace.summary, '1 of 4 nodes keep victims');
});

t.test('victims on different nodes are alternatives: kube-scheduler evicts on the one node it picks', async (t) => {
  const { result } = await preempt(t, {}, { n1: ['batch-0'], n2: ['batch-1'] });
  t.same(
    result,
    {
      NodeNameToMetaVictims: { n1: { Pods: [{ UID: 'uid-batch-0' }], NumPDBViolations: 0 }, n2: { Pods: [{ UID: 'uid-batch-1' }], NumPDBViolations: 0 } },
    },
    'batch (2 running, min 1) can spare either replica, not both, and either is all one preemption takes',
  );
});

t.test('pods of no pool go unless the config says nonPoolVictims: deny', async (t) => {
  const allowed = await preempt(t, {}, { n5: ['loose'] });
  t.same(allowed.result, { NodeNameToMetaVictims: { n5: { Pods: [{ UID: 'uid-loose' }], NumPDBViolations: 0 } } });
  const denied = await preempt(t, { 'scheduler-plugins': [{ name: 'pool-priority', config: { nonPoolVictims: 'deny' } }] }, { n5: ['loose'] });
  t.same(denied.result, { NodeNameToMetaVictims: {} });
  t.same(denied.trace.nodes['n5']?.victims?.vetoed, [{ uid: 'uid-loose', plugin: 'pool-priority', reason: 'belongs to no pool (nonPoolVictims: deny)' }]);
});

t.test('NumPDBViolations reaches the plugin in both wire forms: a violating node keeps no pool replica unless pdbViolations: allow', async (t) => {
  for (const full of [false, true]) {
    const { result, trace } = await preempt(t, {}, { n1: ['batch-0'], n2: ['batch-1'], n5: ['loose'] }, { pdb: { n1: 1, n5: 1 }, full });
    const mode = full ? 'NodeNameToVictims' : 'NodeNameToMetaVictims';
    t.same(
      result,
      {
        NodeNameToMetaVictims: { n2: { Pods: [{ UID: 'uid-batch-1' }], NumPDBViolations: 0 }, n5: { Pods: [{ UID: 'uid-loose' }], NumPDBViolations: 1 } },
      },
      `${mode}: n1 refused, the pod of no pool left to kube-scheduler's count`,
    );
    t.same(trace.nodes['n1']?.victims?.vetoed, [
      { uid: 'uid-batch-0', plugin: 'pool-priority', reason: 'kube-scheduler counts 1 PodDisruptionBudget violation on n1 (pdbViolations: deny)' },
    ]);
  }
  const allowed = await preempt(
    t,
    { 'scheduler-plugins': [{ name: 'pool-priority', config: { pdbViolations: 'allow' } }] },
    { n1: ['batch-0'] },
    { pdb: { n1: 1 } },
  );
  t.same(allowed.result, { NodeNameToMetaVictims: { n1: { Pods: [{ UID: 'uid-batch-0' }], NumPDBViolations: 1 } } }, 'the count is passed back as sent');
});
