/**
 * Preemption between pools with the real kube-scheduler (the shipped scheduler-config.yaml:
 * preemptVerb set, nodeCacheCapable; the last test through scheduler-config-full-nodes.yaml) and
 * the service's built-in plugins. Four GPU nodes, labelled
 * as GFD labels them, are full of low-PriorityClass replicas: gpu-1 of `train` (at its minReplicas
 * 2), gpu-2 and gpu-4 (one GPU) of `batch` (3 replicas, minReplicas 2), gpu-3 of `eval` (above its
 * floor, but a PDB allows no disruption). Left alone, kube-scheduler's DefaultPreemption evicts on
 * gpu-1, whose victims have the lowest PriorityClass (seen with pool-priority disabled); the
 * extender's pool-priority must steer it to a batch node, and refuse every node once each pool is at
 * its floor (counting a replica being deleted as gone) or behind its PDB.
 *
 * No kubelet runs: a victim kube-scheduler deletes stays Terminating (grace period), and the test
 * force-deletes it as the kubelet would once the container stopped. No controller-manager runs
 * either: the test writes the PDB's status as the disruption controller would.
 */
import { CoreV1Api, PatchStrategy, PolicyV1Api, SchedulingV1Api, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { ExtenderPreemptionArgs } from '../../src/api/extender.ts';
import { Labels } from '../../src/api/neuronetes.ts';
import { KubernetesSource } from '../../src/cluster/kubernetes-source.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';
import { eventually, findKubeBinaries, freePort } from './control-plane.ts';
import {
  agentPool,
  boundNode,
  createAgentObjects,
  createCustom,
  createGpuNode,
  createPod,
  nodeOf,
  podEvents,
  schedulerTrace,
  shippedSchedulerConfig,
  startAgentCluster,
} from './kube-fixtures.ts';

interface PreemptTrace {
  verb: string;
  summary: string;
  nodes: Record<string, { kept: boolean; victims?: { kept: string[]; vetoed: { uid: string; plugin: string; reason?: string }[] } }>;
}

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(100_000);
  const log = pino({ level: process.env['E2E_LOG'] ?? 'silent' });
  const ns = 'agents';
  const schedulerName = 'neuronetes-names';
  const { cp, kc } = await startAgentCluster(t, bins, ns);
  const core = kc.makeApiClient(CoreV1Api);

  // kube-scheduler proposes only pods of lower PriorityClass; train's is the lowest of all.
  const scheduling = kc.makeApiClient(SchedulingV1Api);
  for (const [name, value] of [
    ['agents-lowest', 100],
    ['agents-low', 1_000],
    ['agents-high', 100_000],
  ] as const) {
    await scheduling.createPriorityClass({ body: { metadata: { name }, value } });
  }

  const gpusOf: Record<string, number> = { 'gpu-1': 2, 'gpu-2': 2, 'gpu-3': 2, 'gpu-4': 1 };
  for (const [node, gpus] of Object.entries(gpusOf)) {
    await createGpuNode(kc, node, {
      gpus,
      neuronetesLabels: false,
      labels: {
        'nvidia.com/gpu.present': 'true',
        'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB',
        'nvidia.com/gpu.memory': '81920',
        'nvidia.com/gpu.count': String(gpus),
      },
    });
  }
  // Model, AgentClass and a first pool; the others beside it, all at the default priority 0 but chat.
  await createAgentObjects(kc, ns, 'peer');
  for (const [name, spec] of [
    ['batch', { minReplicas: 2, replicas: 3 }],
    ['train', { minReplicas: 2, replicas: 2 }],
    ['eval', { minReplicas: 1, replicas: 2 }],
    ['chat', { minReplicas: 1, scheduling: { priority: 10 } }],
  ] as const) {
    await createCustom(kc, ns, 'agentpools', agentPool(name, spec));
  }

  const replicas: [string, string, string, string][] = [
    ['train-0', 'train', 'gpu-1', 'agents-lowest'],
    ['train-1', 'train', 'gpu-1', 'agents-lowest'],
    ['batch-0', 'batch', 'gpu-2', 'agents-low'],
    ['batch-1', 'batch', 'gpu-2', 'agents-low'],
    ['batch-2', 'batch', 'gpu-4', 'agents-low'],
    ['eval-0', 'eval', 'gpu-3', 'agents-low'],
    ['eval-1', 'eval', 'gpu-3', 'agents-low'],
  ];
  const nameOf = new Map<string, string>();
  for (const [name, pool, nodeName, priorityClassName] of replicas) {
    const created = await createPod(kc, ns, name, { gpus: 1, pool, nodeName, priorityClassName });
    nameOf.set(created.metadata?.uid ?? '', name);
  }

  // eval's PDB, with the status the disruption controller would write: both pods healthy, none may go.
  const policy = kc.makeApiClient(PolicyV1Api);
  await policy.createNamespacedPodDisruptionBudget({
    namespace: ns,
    body: { metadata: { name: 'eval' }, spec: { minAvailable: 2, selector: { matchLabels: { [Labels.agentPool]: 'eval' } } } },
  });
  await policy.patchNamespacedPodDisruptionBudgetStatus(
    { name: 'eval', namespace: ns, body: { status: { currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 2, observedGeneration: 1 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cluster = new KubernetesSource({ kubeConfig: cp.kubeConfig(), log });
  const app: NeuroNetesApp = await buildApp({ cluster, logger: log });
  // What kube-scheduler sends to the preempt verb, by preemptor.
  const preemptCalls = new Map<string, ExtenderPreemptionArgs[]>();
  app.addHook('preHandler', async (request) => {
    if (request.url !== '/scheduler/preempt') return;
    const args = request.body as ExtenderPreemptionArgs;
    const name = args.Pod.metadata.name ?? '';
    preemptCalls.set(name, [...(preemptCalls.get(name) ?? []), args]);
  });
  await app.listen({ port, host: '127.0.0.1' });
  t.teardown(() => app.close());
  await eventually('the service to see the pools and their replicas', () => {
    const view = app.neuronetes.cluster.view();
    return view.pool(ns, 'chat') !== undefined && Object.entries(gpusOf).every(([n, gpus]) => view.podsOnNode(n).length === gpus) ? true : undefined;
  });
  await cp.startScheduler('scheduler', await shippedSchedulerConfig('scheduler-config.yaml', schedulerName, base));
  // The same extender in full-node mode (nodeCacheCapable: false), a profile of its own for the last test.
  await cp.startScheduler('scheduler-nodes', await shippedSchedulerConfig('scheduler-config-full-nodes.yaml', 'neuronetes-nodes', base));

  const readPod = (name: string): Promise<V1Pod> => core.readNamespacedPod({ namespace: ns, name });
  const terminating = async (): Promise<string[]> =>
    (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.metadata?.deletionTimestamp != null).map((p) => p.metadata?.name ?? '');
  /** The preempt call's trace, with victims named instead of UIDs. */
  const preemptTraces = async (pod: string): Promise<PreemptTrace[]> => (await schedulerTrace<PreemptTrace>(base, ns, pod)).filter((e) => e.verb === 'preempt');
  /** The newest preempt call's trace for `pod`, once there are more than `seen`. */
  const preemptTrace = (pod: string, seen = 0): Promise<PreemptTrace> =>
    eventually(
      `preempt call ${seen + 1} for ${pod}`,
      async () => {
        const entries = await preemptTraces(pod);
        return entries.length > seen ? entries[0] : undefined;
      },
      45_000,
    );
  /** A pending pod of `pool` at `priorityClassName`, its UID named in what the test prints. */
  const pending = async (name: string, pool: string, priorityClassName: string, scheduler = schedulerName): Promise<void> => {
    const created = await createPod(kc, ns, name, { gpus: 1, pool, schedulerName: scheduler, priorityClassName });
    nameOf.set(created.metadata?.uid ?? '', name);
  };
  const vetoes = (entry: PreemptTrace): Record<string, string[]> =>
    Object.fromEntries(
      Object.entries(entry.nodes).map(([node, n]) => [node, (n.victims?.vetoed ?? []).map((v) => `${nameOf.get(v.uid) ?? v.uid}: ${v.reason ?? ''}`)]),
    );
  /** kube-scheduler's proposal in the last preempt call for `pod`: victims and PDB violations by node. */
  const proposal = (pod: string): Record<string, { victims: string[]; pdb: number }> => {
    const args = preemptCalls.get(pod)?.at(-1);
    const byUid = Object.entries(args?.NodeNameToMetaVictims ?? {}).map(([node, v]) => [
      node,
      { victims: (v.Pods ?? []).map((p) => nameOf.get(p.UID) ?? p.UID), pdb: v.NumPDBViolations ?? 0 },
    ]);
    const whole = Object.entries(args?.NodeNameToVictims ?? {}).map(([node, v]) => [
      node,
      { victims: (v.Pods ?? []).map((p) => p.metadata.name ?? ''), pdb: v.NumPDBViolations ?? 0 },
    ]);
    return Object.fromEntries([...byUid, ...whole]);
  };
  /** Which of the two forms kube-scheduler used for `pod`'s last preempt call (it sends both keys, the other one null). */
  const wireForm = (pod: string): string[] =>
    Object.entries(preemptCalls.get(pod)?.at(-1) ?? {})
      .filter(([k, v]) => k.startsWith('NodeNameTo') && v !== null)
      .map(([k]) => k);
  /** kube-scheduler gave up on the pod for this attempt (after its PostFilter, i.e. after preemption). */
  const failedScheduling = (pod: string): Promise<string> =>
    eventually(`a FailedScheduling event for ${pod}`, async () => (await podEvents(kc, ns, pod, 'FailedScheduling')).at(-1), 45_000);

  const floor = (pool: string, min: number, running: number, leaving = 0): RegExp =>
    new RegExp(
      `^${pool}-\\d: pool agents/${pool} would drop below minReplicas ${min} \\(${running} running${leaving > 0 ? `, ${leaving} being deleted` : ''}\\)$`,
    );
  const pdb = /^eval-\d: kube-scheduler counts 1 PodDisruptionBudget violation on gpu-3 \(pdbViolations: deny\)$/;
  const batchNodes = ['gpu-2', 'gpu-4'];
  let victim = '';
  let nominated = '';
  /**
   * chat-1's refusals: train at its floor, eval's PDB, batch at its floor (`leaving`: the victim
   * still Terminating) on the other batch node, and beside chat-0 on gpu-2 (two GPUs); gpu-4 (one)
   * has no room beside chat-0, so kube-scheduler does not propose it.
   */
  const atFloor = (t: Test, entry: PreemptTrace, leaving: number): void => {
    const { [nominated]: beside, ...others } = vetoes(entry);
    const other = batchNodes.find((n) => n !== nominated) ?? '';
    t.matchOnly(others, { 'gpu-1': [floor('train', 2, 2)], 'gpu-3': [pdb], [other]: [floor('batch', 2, 2, leaving)] });
    if (nominated === 'gpu-2') t.matchOnly(beside, [floor('batch', 2, 2, leaving)], 'gpu-2: the batch replica beside chat-0');
    else t.equal(beside, undefined, 'gpu-4 is not proposed');
  };

  await t.test('a pod of a pool of equal priority preempts nothing, whatever its PriorityClass', async (t) => {
    await pending('peer-0', 'peer', 'agents-high');
    const entry = await preemptTrace('peer-0');
    t.same(wireForm('peer-0'), ['NodeNameToMetaVictims'], 'victims by UID: nodeCacheCapable');
    t.matchOnly(
      proposal('peer-0'),
      {
        'gpu-1': { victims: [/^train-/], pdb: 0 },
        'gpu-2': { victims: [/^batch-/], pdb: 0 },
        'gpu-3': { victims: [/^eval-/], pdb: 1 },
        'gpu-4': { victims: ['batch-2'], pdb: 0 },
      },
      'kube-scheduler proposes one victim per node (NodeNameToMetaVictims) and counts the PDB on gpu-3',
    );
    t.equal(entry.summary, '0 of 4 nodes keep victims');
    const notBelow = (pool: string): RegExp[] => [new RegExp(`^${pool}-\\d: pool agents/${pool} \\(priority 0\\) is not below agents/peer \\(priority 0\\)$`)];
    t.matchOnly(vetoes(entry), { 'gpu-1': notBelow('train'), 'gpu-2': notBelow('batch'), 'gpu-3': notBelow('eval'), 'gpu-4': notBelow('batch') });
    await failedScheduling('peer-0');
    t.same(await terminating(), [], 'no replica is being deleted');
    t.equal((await readPod('peer-0')).status?.nominatedNodeName, undefined, 'no node nominated');
    await core.deleteNamespacedPod({ namespace: ns, name: 'peer-0' });
  });

  await t.test('a pod of a higher-priority pool evicts a replica above its floor, not one at its floor or behind a PDB', async (t) => {
    await pending('chat-0', 'chat', 'agents-high');
    nominated = await eventually('chat-0 to be nominated', async () => (await readPod('chat-0')).status?.nominatedNodeName, 45_000);
    t.ok(batchNodes.includes(nominated), `a batch node (${nominated}), not gpu-1 whose victim has the lowest PriorityClass`);
    const entry = await preemptTrace('chat-0');
    t.matchOnly(vetoes(entry), { 'gpu-1': [floor('train', 2, 2)], 'gpu-2': [], 'gpu-3': [pdb], 'gpu-4': [] });
    t.equal(entry.summary, '2 of 4 nodes keep victims', 'batch can spare one replica, on either node');
    const kept = entry.nodes[nominated]?.victims?.kept.map((uid) => nameOf.get(uid)) ?? [];
    t.matchOnly(kept, [/^batch-\d$/]);

    victim = kept[0] ?? '';
    t.same(await terminating(), [victim], 'kube-scheduler deleted the victim on the node it picked and no other pod');
    const deleted = await readPod(victim);
    t.match(
      deleted.status?.conditions?.find((c) => c.type === 'DisruptionTarget'),
      { status: 'True', reason: 'PreemptionByScheduler' },
    );
    t.match(await podEvents(kc, ns, victim, 'Preempted'), [new RegExp(`on node ${nominated}`)]);
  });

  await t.test('while the victim is Terminating it no longer counts: a second pod takes no batch replica', async (t) => {
    await eventually('the service to see the victim terminating', () =>
      app.neuronetes.cluster
        .view()
        .podsOfPool(ns, 'batch')
        .some((p) => p.metadata.name === victim && p.metadata.deletionTimestamp != null)
        ? true
        : undefined,
    );
    await pending('chat-1', 'chat', 'agents-high');
    const entry = await preemptTrace('chat-1');
    t.equal(entry.summary, `0 of ${Object.keys(entry.nodes).length} nodes keep victims`);
    atFloor(t, entry, 1);
    await failedScheduling('chat-1');
    t.same(await terminating(), [victim], 'nothing else is deleted');
    t.equal((await readPod('chat-1')).status?.nominatedNodeName, undefined);
  });

  await t.test('once the victim is gone the preemptor binds, and every lower pool at its floor or behind its PDB keeps its replicas', async (t) => {
    // The kubelet's part: the container has stopped, the pod goes.
    const seen = (await preemptTraces('chat-1')).length;
    await core.deleteNamespacedPod({ namespace: ns, name: victim, gracePeriodSeconds: 0 });
    t.equal(await boundNode(kc, ns, 'chat-0', 45_000), nominated, 'the preemptor takes the freed GPU');
    // The deletion sends chat-1 back to the queue too; kube-scheduler asks again, without the victim.
    const entry = await preemptTrace('chat-1', seen);
    const proposed = Object.values(proposal('chat-1')).flatMap((p) => p.victims);
    t.notOk(proposed.includes('chat-0'), `chat-0 (same PriorityClass) is never proposed: ${proposed.join(', ')}`);
    atFloor(t, entry, 0);
    t.same(await terminating(), [], 'kube-scheduler alone would have gone through eval’s PDB on gpu-3 (seen with pdbViolations: allow): nothing is deleted');
    t.equal(await nodeOf(kc, ns, 'chat-1'), '');
  });

  await t.test('full-node mode: kube-scheduler sends whole victim pods, and gets the same refusals', async (t) => {
    await pending('chat-2', 'chat', 'agents-high', 'neuronetes-nodes');
    const entry = await preemptTrace('chat-2');
    t.same(wireForm('chat-2'), ['NodeNameToVictims']);
    t.match(proposal('chat-2'), { 'gpu-1': { victims: [/^train-/], pdb: 0 }, 'gpu-3': { victims: [/^eval-/], pdb: 1 } });
    atFloor(t, entry, 0);
    await failedScheduling('chat-2');
    t.same(await terminating(), [], 'nothing is deleted');
  });
}
