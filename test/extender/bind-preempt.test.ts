import t from 'tap';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import { node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const protectedLabel = 'neuronetes.io/protected';
const guard: SchedulerPlugin = {
  name: () => 'eviction-guard',
  filter: () => true,
  allowEviction: (_c, _p, victim) => victim.metadata.labels?.[protectedLabel] !== 'true',
};

function victim(name: string, nodeName: string, isProtected = false): ReturnType<typeof pod> {
  const v = pod(name, { nodeName, gpus: 1 });
  if (isProtected) v.metadata.labels = { [protectedLabel]: 'true' };
  return v;
}

const v1 = victim('v1', 'n1');
const v2 = victim('v2', 'n1', true);
const v3 = victim('v3', 'n2');
const cluster = { nodes: [node('n1', {}, 2), node('n2', {}, 1)], pods: [v1, v2, v3, pod('pending-0')], agentPools: [], agentClasses: [], models: [] };

t.test('preempt with full victims: a node with a vetoed victim is dropped whole, the others keep theirs', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [guard] }, cluster });
  const res = await app.inject({
    method: 'POST',
    url: '/scheduler/preempt',
    payload: { Pod: pod('big-0', { gpus: 2 }), NodeNameToVictims: { n1: { Pods: [v1, v2], NumPDBViolations: 0 }, n2: { Pods: [v3], NumPDBViolations: 1 } } },
  });
  t.equal(res.statusCode, 200);
  // Evicting v1 alone would free a GPU the pod cannot use: kube-scheduler proposed v2 because it needs it.
  t.same(res.json(), { NodeNameToMetaVictims: { n2: { Pods: [{ UID: 'uid-v3' }], NumPDBViolations: 1 } } });
  const trace = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json().decisions[0];
  t.match(trace.nodes.n1, { kept: false, reason: /^a victim was vetoed: .* the other 1 alone would not make room; none is evicted here$/ });
  t.same(trace.nodes.n1.victims, { kept: [], vetoed: [{ uid: 'uid-v2', plugin: 'eviction-guard' }] });
  t.same(trace.nodes.n2.victims, { kept: ['uid-v3'], vetoed: [] });
});

t.test('preempt with meta victims looks the pods up by UID on their node', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [guard] }, cluster });
  const res = await app.inject({
    method: 'POST',
    url: '/scheduler/preempt',
    payload: {
      Pod: pod('big-0'),
      NodeNameToMetaVictims: { n1: { Pods: [{ UID: 'uid-v2' }], NumPDBViolations: 0 }, n2: { Pods: [{ UID: 'uid-v3' }], NumPDBViolations: 0 } },
    },
  });
  t.same(res.json(), { NodeNameToMetaVictims: { n2: { Pods: [{ UID: 'uid-v3' }], NumPDBViolations: 0 } } }, 'v2 is found protected by its labels');
});

t.test('preempt without vetoing plugins returns what it was given', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const res = await app.inject({
    method: 'POST',
    url: '/scheduler/preempt',
    payload: { Pod: pod('big-0'), NodeNameToMetaVictims: { n2: { Pods: [{ UID: 'uid-v3' }], NumPDBViolations: 0 } } },
  });
  t.same(res.json(), { NodeNameToMetaVictims: { n2: { Pods: [{ UID: 'uid-v3' }], NumPDBViolations: 0 } } });
});

t.test('bind: binds through the cluster source, idempotently; conflicts come back in Error', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const args = { PodName: 'pending-0', PodNamespace: 'agents', PodUID: 'uid-pending-0', Node: 'n2' };
  const first = await app.inject({ method: 'POST', url: '/scheduler/bind', payload: args });
  t.same(first.json(), { Error: '' });
  t.equal(
    app.neuronetes.cluster
      .view()
      .podsOnNode('n2')
      .some((p) => p.metadata.name === 'pending-0'),
    true,
    'GPU accounting sees the pod at once',
  );
  t.same((await app.inject({ method: 'POST', url: '/scheduler/bind', payload: args })).json(), { Error: '' }, 'a retry of the same binding succeeds');
  const elsewhere = (await app.inject({ method: 'POST', url: '/scheduler/bind', payload: { ...args, Node: 'n1' } })).json();
  t.match(elsewhere.Error, /already bound to n2/);
  const wrongUid = (await app.inject({ method: 'POST', url: '/scheduler/bind', payload: { ...args, PodName: 'v1', PodUID: 'other' } })).json();
  t.match(wrongUid.Error, /has UID uid-v1, not other/);
  const missing = (await app.inject({ method: 'POST', url: '/scheduler/bind', payload: { ...args, PodName: 'nope' } })).json();
  t.match(missing.Error, /agents\/nope is not in the cluster snapshot/);
});
