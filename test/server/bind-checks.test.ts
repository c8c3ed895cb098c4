/** Bind binds only the pod kube-scheduler named (by UID) to a node the cluster has, and stays idempotent. */
import t from 'tap';
import { node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const cluster = {
  nodes: [node('n1', {}, 1), node('n2', {}, 1)],
  pods: [pod('pending-0', { uid: 'uid-pending-0' }), pod('bound-0', { uid: 'uid-bound-0', nodeName: 'n1' })],
  agentPools: [],
  agentClasses: [],
  models: [],
};
const args = { PodName: 'pending-0', PodNamespace: 'agents', PodUID: 'uid-pending-0', Node: 'n2' };

t.test('bind refuses a node the cluster does not have, and leaves the pod pending', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const res = await app.inject({ method: 'POST', url: '/scheduler/bind', payload: { ...args, Node: 'no-such-node' } });
  t.equal(res.statusCode, 200, 'a refusal is a domain failure: 200 with Error, as kube-scheduler reads it');
  t.equal(res.json().Error, 'binding agents/pending-0 to no-such-node failed: node "no-such-node" does not exist');
  const pending = app.neuronetes.cluster
    .view()
    .pods()
    .find((p) => p.metadata.name === 'pending-0');
  t.equal(pending?.spec?.nodeName, undefined, 'the pod is still unbound');
});

t.test('bind refuses an empty PodUID: without it the pod cannot be told from a namesake', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const res = await app.inject({ method: 'POST', url: '/scheduler/bind', payload: { ...args, PodUID: '' } });
  t.match(res.json().Error, /PodUID is empty/);
  t.equal(app.neuronetes.cluster.view().podsOnNode('n2').length, 0);
});

t.test('bind refuses a pod already bound elsewhere and a stale UID; a retry to the same node succeeds', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const bind = async (body: typeof args): Promise<string> =>
    (await app.inject({ method: 'POST', url: '/scheduler/bind', payload: body })).json().Error as string;
  t.match(await bind({ ...args, PodName: 'bound-0', PodUID: 'uid-bound-0' }), /already bound to n1/);
  t.match(await bind({ ...args, PodUID: 'uid-of-a-deleted-namesake' }), /has UID uid-pending-0, not uid-of-a-deleted-namesake/);
  t.equal(await bind(args), '');
  t.equal(await bind(args), '', 'idempotent: kube-scheduler retries after a timeout');
  t.equal(await bind({ ...args, PodName: 'bound-0', PodUID: 'uid-bound-0', Node: 'n1' }), '', 'a pod already where it is asked to go is bound');
});

t.test('bind bodies are small: 64 KiB at most, whatever --body-limit allows full NodeLists', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const res = await app.inject({ method: 'POST', url: '/scheduler/bind', payload: { ...args, PodName: 'x'.repeat(70_000) } });
  t.equal(res.statusCode, 413);
});
