/**
 * The real kube-scheduler calling the service: etcd + kube-apiserver + two kube-schedulers (one per
 * nodeCacheCapable mode, each with its own profile, configured from the shipped scheduler-config/
 * files with only the URL changed) + the service (buildApp, Kubernetes source) on loopback.
 *
 * Plugins are registered by the test, not the built-ins: the suite proves the wiring (verbs, modes,
 * binding, restarts), and a label-matching filter makes every expected placement unambiguous.
 */
import { pino } from 'pino';
import t from 'tap';
import { request } from 'undici';
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import { KubernetesSource } from '../../src/cluster/kubernetes-source.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import type { FilterVerdict, SchedulerPlugin } from '../../src/plugins/types.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';
import { eventually, findKubeBinaries, freePort } from './control-plane.ts';
import {
  boundNode,
  createAgentObjects,
  createGpuNode,
  createPod,
  nodeOf,
  podEvents,
  schedulerTrace,
  shippedSchedulerConfig,
  startAgentCluster,
} from './kube-fixtures.ts';

const ACCEPT = 'e2e.neuronetes.io/accept';
const WANT = 'e2e.neuronetes.io/want';
const TIER = 'e2e.neuronetes.io/tier';

/** Keeps nodes whose accept label equals what the pod wants (default "yes"); prefers tier=high. */
const acceptPlugin: SchedulerPlugin = {
  name: () => 'e2e-accept',
  filter(_ctx, pod: Pod, node: Node): FilterVerdict {
    const want = pod.metadata.labels?.[WANT] ?? 'yes';
    if (node.metadata.labels?.[ACCEPT] === want) return { passed: true };
    return { passed: false, reason: `node is not labelled ${ACCEPT}=${want}`, unresolvable: true };
  },
  score: (_ctx, _pod: Pod, node: Node) => (node.metadata.labels?.[TIER] === 'high' ? 100 : 0),
};

interface TraceEntry {
  verb: string;
  mode: string | null;
  pod: string;
  nodes: Record<string, { kept?: boolean; wireScore?: number; reason?: string }>;
}

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(420_000);
  const log = pino({ level: process.env['E2E_LOG'] ?? 'silent' });
  const ns = 'agents';
  const { cp, kc } = await startAgentCluster(t, bins, ns);
  await createAgentObjects(kc, ns, 'chat');
  await createGpuNode(kc, 'gpu-1', { gpus: 8, labels: { [ACCEPT]: 'yes' } });
  await createGpuNode(kc, 'gpu-2', { gpus: 2, labels: { [ACCEPT]: 'multi' } });
  await createGpuNode(kc, 'gpu-3', { gpus: 1, gpuType: 'L4', labels: { [ACCEPT]: 'multi', [TIER]: 'high' } });

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let app: NeuroNetesApp | undefined;
  const startService = async (): Promise<NeuroNetesApp> => {
    const registry = new PluginRegistry();
    registry.register('scheduler', acceptPlugin, 'e2e');
    const cluster = new KubernetesSource({ kubeConfig: cp.kubeConfig(), log });
    const started = await buildApp({ cluster, registry, builtins: false, logger: log });
    await started.listen({ port, host: '127.0.0.1' });
    app = started;
    return started;
  };
  t.teardown(() => app?.close());
  await startService();

  await cp.startScheduler('scheduler-names', await shippedSchedulerConfig('scheduler-config.yaml', 'neuronetes-names', base));
  await cp.startScheduler('scheduler-nodes', await shippedSchedulerConfig('scheduler-config-full-nodes.yaml', 'neuronetes-nodes', base));

  const trace = (pod: string): Promise<TraceEntry[]> => schedulerTrace<TraceEntry>(base, ns, pod);
  const boundTo = (pod: string, timeoutMs = 60_000): Promise<string> => boundNode(kc, ns, pod, timeoutMs);
  const failedScheduling = (pod: string, pattern: RegExp): Promise<string> =>
    eventually(
      `a FailedScheduling event for ${pod} matching ${String(pattern)}`,
      async () => (await podEvents(kc, ns, pod, 'FailedScheduling')).find((m) => pattern.test(m)),
      60_000,
    );

  for (const [mode, schedulerName] of [
    ['names', 'neuronetes-names'],
    ['nodes', 'neuronetes-nodes'],
  ] as const) {
    await t.test(`${mode} mode: a pod only one node can take lands there`, async (t) => {
      const pod = `only-one-${mode}`;
      await createPod(kc, ns, pod, { gpus: 1, pool: 'chat', schedulerName });
      t.equal(await boundTo(pod), 'gpu-1');
      const filters = (await trace(pod)).filter((e) => e.verb === 'filter');
      t.ok(filters.length > 0, 'kube-scheduler called filter');
      t.equal(filters[0]?.mode, mode, `nodeCacheCapable ${mode === 'names'} sends ${mode}`);
      t.match(filters[0]?.nodes['gpu-2'], { kept: false, reason: /not labelled e2e.neuronetes.io\/accept=yes/ });
      const binds = (await trace(pod)).filter((e) => e.verb === 'bind');
      if (mode === 'names') t.match(binds, [{ nodes: { 'gpu-1': { kept: true } } }], 'the extender bound the pod (bindVerb)');
      else t.same(binds, [], 'full-node config: kube-scheduler binds itself');
    });

    await t.test(`${mode} mode: a pod no node can take stays Pending with our reason`, async (t) => {
      const pod = `nowhere-${mode}`;
      await createPod(kc, ns, pod, { gpus: 1, pool: 'chat', schedulerName, labels: { [WANT]: 'never' } });
      const message = await failedScheduling(pod, /not labelled/);
      t.match(message, /0\/3 nodes are available: .*\d e2e-accept: node is not labelled e2e\.neuronetes\.io\/accept=never/);
      t.equal(await nodeOf(kc, ns, pod), '', 'still pending');
    });
  }

  await t.test('prioritize: of two feasible nodes, the one the extender scores higher wins', async (t) => {
    await createPod(kc, ns, 'prefers-high', { gpus: 1, pool: 'chat', schedulerName: 'neuronetes-names', labels: { [WANT]: 'multi' } });
    t.equal(await boundTo('prefers-high'), 'gpu-3');
    const scored = (await trace('prefers-high')).find((e) => e.verb === 'prioritize');
    t.match(scored?.nodes, { 'gpu-3': { wireScore: 10 }, 'gpu-2': { wireScore: 0 } }, 'scores reach kube-scheduler on its 0..10 scale');
  });

  await t.test('names the cache does not know are failed with a reason, not passed or crashed on', async (t) => {
    const { statusCode, body } = await request(`${base}/scheduler/filter`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Pod: { metadata: { name: 'probe', namespace: ns } }, NodeNames: ['gpu-1', 'ghost'] }),
    });
    t.equal(statusCode, 200);
    const result = (await body.json()) as { NodeNames: string[]; FailedNodes: Record<string, string> };
    t.same(result.NodeNames, ['gpu-1']);
    t.match(result.FailedNodes['ghost'], /not in the extender's node cache/);
  });

  await t.test('bind errors carry the API server’s text', async (t) => {
    await createPod(kc, ns, 'wrong-uid', { schedulerName: 'nobody' });
    const { body } = await request(`${base}/scheduler/bind`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ PodName: 'wrong-uid', PodNamespace: ns, PodUID: '00000000-0000-0000-0000-000000000000', Node: 'gpu-1' }),
    });
    const result = (await body.json()) as { Error: string };
    t.match(result.Error, /binding agents\/wrong-uid to gpu-1 failed: 409: .*UID/);
  });

  await t.test('the service restarts mid-run: pods created meanwhile are scheduled, nothing lost', async (t) => {
    const before = { names: await nodeOf(kc, ns, 'only-one-names'), high: await nodeOf(kc, ns, 'prefers-high') };
    await app?.close();
    app = undefined;
    const pods = ['while-down-1', 'while-down-2', 'while-down-3'];
    for (const pod of pods) await createPod(kc, ns, pod, { gpus: 1, pool: 'chat', schedulerName: 'neuronetes-names' });
    const message = await failedScheduling('while-down-1', /connection refused|ECONNREFUSED|connect/);
    t.match(message, /127\.0\.0\.1/, 'kube-scheduler could not reach the extender');
    t.equal(await nodeOf(kc, ns, 'while-down-1'), '', 'and did not place the pod without it');
    await startService();
    for (const pod of pods) t.equal(await boundTo(pod), 'gpu-1', `${pod} bound once the service is back`);
    t.same({ names: await nodeOf(kc, ns, 'only-one-names'), high: await nodeOf(kc, ns, 'prefers-high') }, before, 'earlier placements untouched');
    const gpuPods =
      app === undefined
        ? []
        : (app as NeuroNetesApp).neuronetes.cluster
            .view()
            .podsOnNode('gpu-1')
            .map((p) => p.metadata.name)
            .sort();
    t.same(gpuPods, ['only-one-names', 'only-one-nodes', ...pods].sort(), 'the restarted service counts every pod on the node');
  });
}
