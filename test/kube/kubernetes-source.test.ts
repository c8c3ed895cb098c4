import { pino } from 'pino';
import t from 'tap';
import { BindError } from '../../src/cluster/cluster-source.ts';
import { KubernetesSource, type KubernetesSourceOptions } from '../../src/cluster/kubernetes-source.ts';
import { eventually } from '../e2e/control-plane.ts';
import type { Teardown } from '../helpers/test-app.ts';
import { FakeApiServer, status } from './fake-apiserver.ts';

const log = pino({ level: 'silent' });
const PATHS = {
  nodes: '/api/v1/nodes',
  pods: '/api/v1/pods',
  pools: '/apis/neuronetes.io/v1alpha1/agentpools',
  classes: '/apis/neuronetes.io/v1alpha1/agentclasses',
  models: '/apis/neuronetes.io/v1alpha1/models',
};

const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { allocatable: { 'nvidia.com/gpu': '4' } } });
const pod = (name: string, extra: { nodeName?: string; pool?: string; uid?: string } = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'ns',
    uid: extra.uid ?? `uid-${name}`,
    ...(extra.pool !== undefined ? { labels: { 'neuronetes.io/agent-pool': extra.pool } } : {}),
  },
  spec: {
    ...(extra.nodeName !== undefined ? { nodeName: extra.nodeName } : {}),
    containers: [{ name: 'c', resources: { requests: { 'nvidia.com/gpu': '1' } } }],
  },
  status: { phase: 'Pending' },
});
const pool = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'neuronetes.io/v1alpha1',
  kind: 'AgentPool',
  metadata: { name, namespace: 'ns', uid: `uid-${name}` },
  spec: { agentClassRef: { name: 'c' }, minReplicas: 1, maxReplicas: 3, ...spec },
});

async function setup(t: Teardown, options: Partial<KubernetesSourceOptions> = {}, prepare: (api: FakeApiServer) => void = () => {}) {
  const api = await new FakeApiServer().start();
  for (const path of Object.values(PATHS)) api.collection(path);
  prepare(api);
  const source = new KubernetesSource({ kubeConfig: api.kubeConfig(), log, rebuildDelayMs: 10, backoff: { initialMs: 20, maxMs: 100 }, ...options });
  t.teardown(async () => {
    await source.close();
    await api.stop();
  });
  return { api, source };
}

const watching = (api: FakeApiServer): Promise<true> =>
  eventually('every watch', () => (Object.values(PATHS).every((p) => api.collection(p).watchers.size > 0) ? true : undefined));

t.test('start(): gives up waiting after syncTimeoutMs and says why /readyz fails', async (t) => {
  const { source } = await setup(t, { syncTimeoutMs: 1_500 }, (api) => api.collection(PATHS.pools).listFailures.push(...Array<number>(1000).fill(404)));
  await source.start();
  const r = source.readiness();
  t.equal(r.ready, false);
  t.match(r.reason, /waiting for the first list of agentpools: 404/);
});

t.test('readiness turns false once the cache is older than staleAfterMs', async (t) => {
  let now = 5_000_000;
  const { source } = await setup(t, { staleAfterMs: 60_000, now: () => now });
  await source.start();
  t.same(source.readiness(), { ready: true });
  now += 61_000;
  t.match(source.readiness(), { ready: false, reason: /cache is stale \(no event or reconnect for 61s\)/ });
});

t.test('changes are coalesced into few rebuilds; bound and pending pool pods are both seen', async (t) => {
  const { api, source } = await setup(t, { rebuildDelayMs: 100 });
  await source.start();
  await watching(api);
  const versions: number[] = [];
  source.onChange((v) => versions.push(v.version));
  for (let i = 0; i < 50; i++) api.put(PATHS.nodes, node(`n${i}`));
  api.put(PATHS.pods, pod('running', { nodeName: 'n1' }));
  api.put(PATHS.pools, pool('chat'));
  await eventually('all changes', () => (source.view().nodes().length === 50 && source.view().pool('ns', 'chat') !== undefined ? true : undefined));
  t.ok(versions.length < 10, `52 events, ${versions.length} rebuilds`);
  t.same(
    source
      .view()
      .podsOnNode('n1')
      .map((p) => p.metadata.name),
    ['running'],
  );
});

t.test('pod events change the picture one pod at a time; a node event lists the nodes again', async (t) => {
  const { api, source } = await setup(t, {}, (api) => {
    for (const n of ['n1', 'n2']) api.put(PATHS.nodes, node(n));
    api.put(PATHS.pods, pod('old', { nodeName: 'n1', pool: 'chat' }));
  });
  await source.start();
  await watching(api);
  const nodes = source.view().nodes();
  const onNode = (n: string): string[] =>
    source
      .view()
      .podsOnNode(n)
      .map((p) => p.metadata.name ?? '');
  const inPool = (): string[] =>
    source
      .view()
      .podsOfPool('ns', 'chat')
      .map((p) => `${p.metadata.name ?? ''}@${p.spec?.nodeName ?? '-'}`)
      .sort();
  const settled = (what: string, check: () => boolean): Promise<true> => eventually(what, () => (check() ? true : undefined));

  api.put(PATHS.pods, pod('new', { pool: 'chat' }));
  await settled('the pending pod', () => inPool().length === 2);
  t.same(inPool(), ['new@-', 'old@n1']);
  api.put(PATHS.pods, pod('new', { pool: 'chat', nodeName: 'n2' }));
  await settled('the pod bound', () => onNode('n2').length === 1);
  t.same(inPool(), ['new@n2', 'old@n1'], 'bound: the same pod, not a second one');
  const finished = { ...pod('old', { nodeName: 'n1', pool: 'chat' }), status: { phase: 'Succeeded' } };
  api.put(PATHS.pods, finished);
  await settled('the finished pod off its node', () => onNode('n1').length === 0);
  t.same(inPool(), ['new@n2', 'old@n1'], 'a finished pod is still the pool’s');
  api.remove(PATHS.pods, 'old', 'ns');
  await settled('the deleted pod gone', () => inPool().length === 1);
  t.equal(source.view().nodes(), nodes, 'pod events never listed the nodes again');

  api.put(PATHS.nodes, node('n3'));
  await settled('the new node', () => source.view().node('n3') !== undefined);
  t.same(onNode('n2'), ['new'], 'the pods are still in place');
  t.same(inPool(), ['new@n2']);
});

t.test('invalid custom resources are left out of the view (logged once)', async (t) => {
  const { source } = await setup(t, {}, (api) => {
    api.put(PATHS.pools, pool('good'));
    api.put(PATHS.pools, pool('bad', { maxReplicas: 'many' }));
  });
  await source.start();
  t.same(
    source
      .view()
      .pools()
      .map((p) => p.metadata.name),
    ['good'],
  );
});

t.test('bind: binding body, assume until confirmed, TTL expiry, 409 on the same node, API errors', async (t) => {
  const bindings: unknown[] = [];
  let bindStatus = 201;
  let podNode = '';
  let now = 1_000_000;
  const { api, source } = await setup(t, { assumeTtlMs: 5_000, now: () => now }, (api) => {
    api.put(PATHS.nodes, node('n1'));
    api.on((req, body, res) => {
      const url = req.url ?? '';
      if (req.method === 'POST' && url.endsWith('/binding')) {
        bindings.push(JSON.parse(body));
        if (bindStatus === 201) res.writeHead(201, { 'content-type': 'application/json' }).end(body);
        else status(res, bindStatus, bindStatus === 409 ? 'pod p is already assigned to node "n1"' : 'etcd is on fire');
        return true;
      }
      if (req.method === 'GET' && url.startsWith('/api/v1/namespaces/ns/pods/')) {
        const name = url.split('/').pop() ?? '';
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(pod(name, podNode === '' ? {} : { nodeName: podNode })));
        return true;
      }
      return false;
    });
  });
  await source.start();

  await source.bind({ podNamespace: 'ns', podName: 'p', podUid: 'uid-p', node: 'n1' });
  t.match(bindings[0], { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', namespace: 'ns', uid: 'uid-p' }, target: { kind: 'Node', name: 'n1' } });
  t.same(
    source
      .view()
      .podsOnNode('n1')
      .map((p) => p.metadata.name),
    ['p'],
    'assumed at once',
  );
  t.equal(source.view().podsOnNode('n1')[0]?.spec?.containers?.[0]?.resources?.requests?.['nvidia.com/gpu'], '1', 'with the requests read from the API');

  await source.bind({ podNamespace: 'ns', podName: 'p', podUid: 'uid-p', node: 'n1' });
  t.equal(bindings.length, 1, 'a retried bind of an assumed pod makes no second API call');

  now += 6_000;
  api.put(PATHS.nodes, node('n2')); // any change triggers a rebuild, which drops the expired entry
  await eventually('the assumption to expire', () => (source.view().podsOnNode('n1').length === 0 ? true : undefined));

  bindStatus = 409;
  podNode = 'n1';
  await source.bind({ podNamespace: 'ns', podName: 'p', podUid: 'uid-p', node: 'n1' });
  t.pass('409 with the pod already on that node is success (the first attempt landed)');
  podNode = 'n2';
  await t.rejects(
    source.bind({ podNamespace: 'ns', podName: 'r', podUid: 'uid-r', node: 'n1' }),
    new BindError('409: pod p is already assigned to node "n1"'),
    'a 409 for a pod that is elsewhere is an error',
  );
  bindStatus = 500;
  await t.rejects(source.bind({ podNamespace: 'ns', podName: 'q', podUid: '', node: 'n1' }), { name: 'BindError', message: '500: etcd is on fire' });
  t.notOk((bindings.at(-1) as { metadata: { uid?: string } }).metadata.uid, 'no UID precondition when the scheduler sends none');
});

t.test('the assumed pod leaves once the informer shows it bound', async (t) => {
  const { api, source } = await setup(t, {}, (api) => {
    api.put(PATHS.nodes, node('n1'));
    api.put(PATHS.pods, pod('p', { pool: 'chat' }));
    api.on((req, body, res) => {
      if (req.method !== 'POST') return false;
      res.writeHead(201, { 'content-type': 'application/json' }).end(body);
      return true;
    });
  });
  await source.start();
  await watching(api);
  t.same(
    source
      .view()
      .podsOfPool('ns', 'chat')
      .map((p) => p.spec?.nodeName ?? ''),
    [''],
    'pending pool pod seen',
  );
  await source.bind({ podNamespace: 'ns', podName: 'p', podUid: 'uid-p', node: 'n1' });
  t.same(
    source
      .view()
      .podsOnNode('n1')
      .map((p) => p.metadata.name),
    ['p'],
  );
  api.put(PATHS.pods, pod('p', { pool: 'chat', nodeName: 'n1' }));
  await eventually('the confirmed pod', () => (source.view().podsOnNode('n1')[0]?.metadata.resourceVersion !== undefined ? true : undefined));
  t.equal(source.view().podsOnNode('n1').length, 1, 'counted once');
});

t.test('patchPoolStatus: merge patch on the status subresource; errors carry the API text', async (t) => {
  const patches: { url: string; type: string; body: unknown }[] = [];
  const { source } = await setup(t, {}, (api) =>
    api.on((req, body, res) => {
      if (req.method !== 'PATCH') return false;
      patches.push({ url: req.url ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(body) });
      if ((req.url ?? '').includes('/missing/')) status(res, 404, 'agentpools "missing" not found');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(pool('chat')));
      return true;
    }),
  );
  await source.start();
  t.equal(source.isLeader(), true, 'no leader election configured: this replica writes');
  await source.patchPoolStatus('ns', 'chat', { replicas: 2 });
  t.same(patches[0], {
    url: '/apis/neuronetes.io/v1alpha1/namespaces/ns/agentpools/chat/status',
    type: 'application/merge-patch+json',
    body: { status: { replicas: 2 } },
  });
  await t.rejects(source.patchPoolStatus('ns', 'missing', { replicas: 1 }), /AgentPool ns\/missing failed: 404: agentpools "missing" not found/);
});
