/**
 * The Kubernetes cluster source against a real kube-apiserver (+ etcd): first sync and readiness,
 * the CRDs' validation and subresources, bind with the UID precondition and the assume cache, a
 * 410 re-list after etcd compaction, an API server restart (dropped watches), leader election, and
 * the shipped RBAC for `serve` being enough (and no more) for all of it.
 */
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { request } from 'undici';
import { Labels } from '../../src/api/neuronetes.ts';
import { BindError } from '../../src/cluster/cluster-source.ts';
import { apiErrorText } from '../../src/cluster/kube-api.ts';
import { KubernetesSource, LEADER_LEASE_NAME, type KubernetesSourceOptions } from '../../src/cluster/kubernetes-source.ts';
import { LeaderElection } from '../../src/cluster/leader-election.ts';
import { eventually, findKubeBinaries, startControlPlane, type ControlPlane } from './control-plane.ts';
import {
  agentPool,
  applyCrds,
  createAgentObjects,
  createCustom,
  createGpuNode,
  createNamespace,
  createPod,
  crd,
  shippedServiceAccount,
} from './kube-fixtures.ts';

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(300_000);
  const log = pino({ level: process.env['E2E_LOG'] ?? 'silent' });
  // Watch caching off for nodes so a watch from a compacted revision reaches etcd (and gets 410);
  // short watch timeouts so watches end (and resume) within seconds.
  const cp: ControlPlane = await startControlPlane(bins, { apiserverArgs: ['--watch-cache-sizes=nodes#0', '--min-request-timeout=5'] });
  t.teardown(() => cp.stop());
  const kc: KubeConfig = cp.kubeConfig();
  const ns = 'agents';
  await applyCrds(kc);
  await createNamespace(kc, ns);
  await createGpuNode(kc, 'gpu-a', { gpus: 2 });
  await createGpuNode(kc, 'gpu-b', { gpus: 1, gpuType: 'L4' });
  await createAgentObjects(kc, ns, 'chat');

  const sources: KubernetesSource[] = [];
  t.teardown(async () => {
    for (const s of sources) await s.close();
  });
  const source = (options: Partial<KubernetesSourceOptions> = {}): KubernetesSource => {
    const s = new KubernetesSource({ kubeConfig: cp.kubeConfig(), log, rebuildDelayMs: 20, backoff: { initialMs: 100, maxMs: 1_000 }, ...options });
    sources.push(s);
    return s;
  };
  const main = source();

  await t.test('not ready before the first list; then every kind is in the view', async (t) => {
    t.match(main.readiness(), { ready: false, reason: /waiting for the first list/ });
    await main.start();
    t.same(main.readiness(), { ready: true });
    const view = main.view();
    t.same(
      view
        .nodes()
        .map((n) => n.metadata.name)
        .sort(),
      ['gpu-a', 'gpu-b'],
    );
    t.equal(view.node('gpu-a')?.status?.allocatable?.['nvidia.com/gpu'], '2');
    t.equal(typeof view.node('gpu-a')?.metadata.creationTimestamp, 'string', 'plain JSON, as the watch delivers it');
    t.equal(view.pool(ns, 'chat')?.spec.maxReplicas, 4);
    t.equal(view.agentClass(ns, 'assistant')?.spec.modelRef.name, 'llama');
    t.equal(view.model(ns, 'llama')?.spec.size, '16Gi');
  });

  await t.test('the CRDs validate: CEL min <= max, enums, minimums', async (t) => {
    const bad = async (spec: Record<string, unknown>): Promise<string> => {
      try {
        await createCustom(kc, ns, 'agentpools', agentPool(`bad-${Math.random().toString(36).slice(2, 7)}`, spec));
        return 'accepted';
      } catch (e: unknown) {
        return apiErrorText(e);
      }
    };
    t.match(await bad({ minReplicas: 5, maxReplicas: 2 }), /422.*minReplicas must not exceed maxReplicas/);
    t.match(await bad({ gpuRequirements: { count: 1, topology: { locality: 'same-rack' } } }), /422.*locality.*Unsupported value/);
    t.match(await bad({ maxReplicas: 0 }), /422.*maxReplicas/);
    t.match(await bad({ autoscaling: { cooldownPeriod: '5 minutes' } }), /422.*cooldownPeriod/);
  });

  await t.test('AgentPool has scale and status subresources; patchPoolStatus writes status', async (t) => {
    await main.patchPoolStatus(ns, 'chat', { replicas: 3, readyReplicas: 2 });
    const scale = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObjectScale({ ...crd('agentpools'), namespace: ns, name: 'chat' })) as {
      status?: { replicas?: number };
    };
    t.equal(scale.status?.replicas, 3, 'scale subresource reads status.replicas');
    await eventually('the status patch to reach the view', () => (main.view().pool(ns, 'chat')?.status?.readyReplicas === 2 ? true : undefined));
    await t.rejects(main.patchPoolStatus(ns, 'nope', { replicas: 1 }), /AgentPool agents\/nope failed: 404/);
  });

  await t.test('bind: UID precondition, assumed at once, confirmed by the informer, idempotent', async (t) => {
    const pod = await createPod(kc, ns, 'bind-me', { gpus: 1, pool: 'chat', schedulerName: 'nobody' });
    await eventually('the pending pool pod in the view', () =>
      main
        .view()
        .podsOfPool(ns, 'chat')
        .some((p) => p.metadata.name === 'bind-me')
        ? true
        : undefined,
    );
    t.same(main.view().podsOnNode('gpu-a').length, 0);

    await t.rejects(main.bind({ podNamespace: ns, podName: 'bind-me', podUid: 'not-the-uid', node: 'gpu-a' }), BindError);
    await main.bind({ podNamespace: ns, podName: 'bind-me', podUid: pod.metadata?.uid ?? '', node: 'gpu-a' }).catch((e: unknown) => t.fail(String(e)));
    const assumed = main.view().podsOnNode('gpu-a');
    t.same(
      assumed.map((p) => p.metadata.name),
      ['bind-me'],
      'GPU accounting sees the pod right after bind',
    );
    t.equal(assumed[0]?.spec?.containers?.[0]?.resources?.requests?.['nvidia.com/gpu'], '1', 'with its requests');

    await eventually('the informer to confirm the binding', async () => {
      const p = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: ns, name: 'bind-me' });
      return p.spec?.nodeName === 'gpu-a' &&
        main
          .view()
          .podsOnNode('gpu-a')
          .some((q) => q.metadata.resourceVersion === p.metadata?.resourceVersion)
        ? true
        : undefined;
    });
    await main.bind({ podNamespace: ns, podName: 'bind-me', podUid: pod.metadata?.uid ?? '', node: 'gpu-a' });
    t.pass('binding again to the same node succeeds');
    const err = await main.bind({ podNamespace: ns, podName: 'bind-me', podUid: pod.metadata?.uid ?? '', node: 'gpu-b' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, BindError);
    t.match((err as Error).message, /^409: .*already assigned to node "gpu-a"/, 'the API server’s own words');
  });

  await t.test('a bind the API rejects for the UID names the precondition', async (t) => {
    await createPod(kc, ns, 'uid-check', { schedulerName: 'nobody' });
    const err = await main.bind({ podNamespace: ns, podName: 'uid-check', podUid: '00000000-0000-0000-0000-000000000000', node: 'gpu-b' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.match((err as Error | undefined)?.message, /409: .*[Pp]recondition.*UID/);
  });

  await t.test('410 Gone: a watch resumed from a compacted revision re-lists', async (t) => {
    const nodes = () => main.informerHealth().find((h) => h.name === 'nodes');
    const relists = (): number => nodes()?.relists ?? 0;
    const before = relists();
    const restarts = nodes()?.restarts;
    // Move etcd past the node informer's resourceVersion, then compact everything before it.
    await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'bump' }, data: { a: 'b' } } });
    const range = await request(`${cp.etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) });
    const revision = ((await range.body.json()) as { header: { revision: string } }).header.revision;
    const compact = await request(`${cp.etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
    t.equal(compact.statusCode, 200, 'etcd compacted');
    await compact.body.dump();
    await eventually('the node informer to re-list after 410', () => (relists() > before ? true : undefined), 60_000);
    t.equal(nodes()?.restarts, restarts, 'the ListWatch re-listed by itself; the supervisor did not have to restart it');
    t.same(
      main
        .view()
        .nodes()
        .map((n) => n.metadata.name)
        .sort(),
      ['gpu-a', 'gpu-b'],
      'the re-listed picture is whole',
    );
    t.same(main.readiness(), { ready: true });
  });

  await t.test('API server restart: watches drop, readiness goes stale, informers recover', async (t) => {
    const restarting = source({ staleAfterMs: 1_500 });
    await restarting.start();
    t.same(restarting.readiness(), { ready: true });
    await cp.stopApiServer();
    const down = await eventually(
      'readiness to report the stale cache',
      () => {
        const r = restarting.readiness();
        return r.ready ? undefined : r;
      },
      30_000,
    );
    t.match(down.reason, /stale/);
    t.ok(restarting.view().node('gpu-a'), 'the last picture keeps serving while the API server is away');
    await cp.startApiServer();
    await createGpuNode(kc, 'gpu-c', { gpus: 4, labels: { [Labels.capacityType]: 'spot' } });
    await eventually('the node created after the restart', () => (restarting.view().node('gpu-c') !== undefined ? true : undefined), 60_000);
    await eventually('readiness to come back', () => (restarting.readiness().ready ? true : undefined), 30_000);
    t.ok(
      restarting.informerHealth().every((h) => h.restarts > 0),
      'every informer was restarted by its supervisor',
    );
    // The other source has no short staleness watchdog: a watch the restart left silently dead is
    // noticed by client-node's 30s inactivity timeout, so it may recover later than this one.
    t.ok(
      await eventually('the other source to recover', () => (main.view().node('gpu-c') !== undefined ? true : undefined), 60_000),
      'the other source recovered too',
    );
  });

  await t.test('RBAC least privilege is enough: the source runs as the manifests’ ServiceAccount', async (t) => {
    const asServe = (await shippedServiceAccount(kc, cp.server, 'neuronetes-extender', 'rbac-serve.yaml'))();
    const restricted = source({ kubeConfig: asServe, leaderElection: { namespace: 'neuronetes-system', name: LEADER_LEASE_NAME, identity: 'rbac-check' } });
    await restricted.start();
    t.same(restricted.readiness(), { ready: true }, 'every informer lists and watches');
    await eventually('leadership on its Lease', () => (restricted.isLeader() ? true : undefined));
    const pod = await createPod(kc, ns, 'rbac-bind', { schedulerName: 'nobody' });
    await restricted.bind({ podNamespace: ns, podName: 'rbac-bind', podUid: pod.metadata?.uid ?? '', node: 'gpu-b' });
    t.pass('pods/binding allowed');
    await restricted.patchPoolStatus(ns, 'chat', { readyReplicas: 1 });
    t.pass('agentpools/status patch allowed');
    const denied = await asServe
      .makeApiClient(CoreV1Api)
      .listSecretForAllNamespaces()
      .then(
        () => 'allowed',
        (e: unknown) => apiErrorText(e),
      );
    t.match(denied, /^403: .*cannot list resource "secrets"/, 'and nothing beyond: no Secrets');
    const noDelete = await asServe
      .makeApiClient(CoreV1Api)
      .deleteNamespacedPod({ name: 'rbac-bind', namespace: ns })
      .then(
        () => 'allowed',
        (e: unknown) => apiErrorText(e),
      );
    t.match(noDelete, /^403: /, 'no pod deletion');
    await restricted.close();
  });

  await t.test('leader election on a Lease: one leader; release hands over', async (t) => {
    const api = kc.makeApiClient(CoordinationV1Api);
    const elector = (identity: string): LeaderElection =>
      new LeaderElection({ api, namespace: ns, name: 'e2e-lease', identity, log, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 });
    const a = elector('replica-a');
    const b = elector('replica-b');
    a.start();
    await eventually('a to lead', () => (a.isLeader() ? true : undefined));
    b.start();
    await new Promise((r) => setTimeout(r, 1_000));
    t.notOk(b.isLeader(), 'b follows while a renews');
    const lease = await api.readNamespacedLease({ name: 'e2e-lease', namespace: ns });
    t.equal(lease.spec?.holderIdentity, 'replica-a');
    const changes: boolean[] = [];
    b.onChange((leader) => changes.push(leader));
    await a.stop();
    t.notOk(a.isLeader());
    await eventually('b to take over the released lease', () => (b.isLeader() ? true : undefined), 10_000);
    t.same(changes, [true]);
    await b.stop();
  });
}
