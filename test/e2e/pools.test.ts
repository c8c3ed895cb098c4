/**
 * The pool controller against a real kube-apiserver (+ etcd) and kube-scheduler, as the shipped
 * ServiceAccount: a pool's Deployment scaled up and down to spec.replicas through its scale
 * subresource; status.replicas, readyReplicas and selector following the pool's pods (no kubelet or
 * controller-manager runs, so the test creates the Deployment's pods and marks them ready with status
 * patches, as they would); a pod the extender cannot place, with kube-scheduler's reason on the pool;
 * the pool's scale subresource publishing the selector; a pool with prewarmPercent whose Deployment
 * runs its warm replica too, reported in status.prewarmedReplicas; conditions, Events and GET /pools/…/why; and
 * bad targets (missing, no scale subresource, a selector over another pool's pods) each shown on
 * their own pool while the other pools go on.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import t from 'tap';
import { Agent, request } from 'undici';
import { Labels } from '../../src/api/neuronetes.ts';
import { KubernetesPoolEvents } from '../../src/pools/pool-events.ts';
import type { PoolWhy } from '../../src/pools/pool-why.ts';
import { eventually, findKubeBinaries } from './control-plane.ts';
import { agentPool, createCustom, createGpuNode, createPod, crd, shippedSchedulerConfig } from './kube-fixtures.ts';
import { poolEnvironment } from './pool-environment.ts';

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(120_000);
  const env = await poolEnvironment(t, bins);
  const { cp, kc, custom, apps, core, ns, log, asServe, readPool, condition, deploymentReplicas, events } = env;

  const deployment = async (name: string, pool: string | undefined, replicas: number, selector: Record<string, string> = { app: name }): Promise<void> => {
    const labels = { ...selector, ...(pool !== undefined ? { [Labels.agentPool]: pool } : {}) };
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          replicas,
          selector: { matchLabels: selector },
          template: { metadata: { labels }, spec: { containers: [{ name: 'agent', image: 'registry.invalid/agent:e2e' }] } },
        },
      },
    });
  };
  /** A pod the Deployment's ReplicaSet would create, already on a node and ready as the kubelet would report it. */
  const readyPod = async (name: string, labels: Record<string, string>): Promise<void> => {
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name, labels }, spec: { nodeName: 'gpu-1', containers: [{ name: 'agent', image: 'registry.invalid/agent:e2e' }] } },
    });
    const now = new Date();
    await core.patchNamespacedPodStatus(
      {
        name,
        namespace: ns,
        body: {
          status: {
            phase: 'Running',
            conditions: [
              { type: 'Ready', status: 'True', lastTransitionTime: now },
              { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  };
  const scalePool = async (name: string, replicas: number): Promise<void> => {
    await custom.patchNamespacedCustomObjectScale(
      { ...crd('agentpools'), namespace: ns, name, body: { spec: { replicas } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  };
  const poolWith = (name: string, spec: Record<string, unknown>): Record<string, unknown> => agentPool(name, { minReplicas: 1, maxReplicas: 6, ...spec });

  // Pools first, so the controller's first round meets every case at once.
  await deployment('chat', 'chat', 1, { app: 'shared', tier: 'chat' });
  // The one node has A100s; the pool asks for an H100: the extender's gpu-fit turns its pods away.
  await createGpuNode(kc, 'gpu-1', { gpus: 8, gpuType: 'A100' });
  await createCustom(
    kc,
    ns,
    'agentpools',
    poolWith('chat', { replicas: 3, gpuRequirements: { count: 1, type: 'H100' }, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'chat' } }),
  );
  await createCustom(kc, ns, 'agentpools', poolWith('ghost', { replicas: 2, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nowhere' } }));
  await createCustom(kc, ns, 'agentpools', poolWith('jobs', { replicas: 2, scaleTargetRef: { apiVersion: 'batch/v1', kind: 'Job', name: 'batch' } }));
  // `greedy`'s Deployment selects app=shared, which the pods of pool `chat` carry too; `bare`'s template lacks the pool label.
  await deployment('greedy', 'greedy', 1, { app: 'shared' });
  await createCustom(kc, ns, 'agentpools', poolWith('greedy', { replicas: 4, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'greedy' } }));
  await deployment('bare', undefined, 1);
  await createCustom(kc, ns, 'agentpools', poolWith('bare', { replicas: 1, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'bare' } }));
  await readyPod('chat-a', { app: 'shared', tier: 'chat', [Labels.agentPool]: 'chat' });
  // 4 serving and 25 % warm: the Deployment is scaled to 5.
  await deployment('warm', 'warm', 1);
  await createCustom(
    kc,
    ns,
    'agentpools',
    poolWith('warm', { minReplicas: 0, replicas: 4, prewarmPercent: 25, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'warm' } }),
  );

  const { app, base } = await env.startService();
  await cp.startScheduler('scheduler', await shippedSchedulerConfig('scheduler-config.yaml', 'neuronetes-names', base));

  await t.test('the target follows spec.replicas up and down; status follows the pods', async (t) => {
    await eventually('Deployment chat scaled to 3', async () => ((await deploymentReplicas('chat')) === 3 ? true : undefined));
    let pool = await eventually('status from the one pod', async () => {
      const p = await readPool('chat');
      return p.status?.replicas === 1 && p.status.readyReplicas === 1 ? p : undefined;
    });
    t.equal(pool.status?.selector, `${Labels.agentPool}=chat`);
    t.match(condition(pool, 'Ready'), { status: 'False', reason: 'ReplicasMissing' });
    t.match(condition(pool, 'Scaling'), { status: 'True', reason: 'ScalingUp', message: '1 → 3 replicas' });
    t.match(condition(pool, 'AbleToScale'), { status: 'True', reason: 'SucceededGetScale' });
    t.match(condition(pool, 'MetricsAvailable'), { status: 'True', reason: 'NoMetrics' });
    const rescaled = await eventually('a Rescaled event', async () => ((await events('chat', 'Rescaled')).length > 0 ? events('chat', 'Rescaled') : undefined));
    t.match(rescaled[0]?.message, /Deployment chat: 1 → 3 replicas/);

    // The ReplicaSet's pods arrive: one ready, one that cannot be placed.
    await readyPod('chat-b', { app: 'shared', tier: 'chat', [Labels.agentPool]: 'chat' });
    await createPod(kc, ns, 'chat-c', { gpus: 1, pool: 'chat', schedulerName: 'neuronetes-names', labels: { app: 'shared', tier: 'chat' } });
    pool = await eventually('the pending pod shown', async () => {
      const p = await readPool('chat');
      return p.status?.replicas === 3 && p.status.readyReplicas === 2 && condition(p, 'Ready')?.reason === 'PodsUnschedulable' ? p : undefined;
    });
    t.match(
      condition(pool, 'Ready')?.message,
      /2 of 3 ready; 1 cannot be placed \(chat-c\): 0\/1 nodes are available: 1 gpu-fit: needs H100 GPUs, node has A100/,
    );
    t.match(condition(pool, 'Scaling'), { status: 'False', reason: 'Steady' });
    const unplaced = await eventually('a PodsUnschedulable event', async () =>
      (await events('chat', 'PodsUnschedulable')).length > 0 ? events('chat', 'PodsUnschedulable') : undefined,
    );
    t.equal(unplaced.length, 1, 'one Event, not one per round');

    const why = (await app.inject({ method: 'GET', url: `/pools/${ns}/chat/why` })).json<PoolWhy>();
    t.equal(why.replicas, 3);
    t.equal(why.readyReplicas, 2);
    t.match(why.pending, [{ name: 'chat-c', reason: 'Unschedulable', message: /gpu-fit: needs H100 GPUs/ }]);
    t.match(why.answer, [/pod chat-c cannot be placed \(Unschedulable\): 0\/1 nodes are available: 1 gpu-fit: needs H100 GPUs/]);
    t.match(why.target, { ok: true, specReplicas: 3, selector: 'app=shared,tier=chat' });

    // As `kubectl scale apool`, KEDA or the actuator would: the Deployment follows down.
    await scalePool('chat', 1);
    await eventually('Deployment chat scaled to 1', async () => ((await deploymentReplicas('chat')) === 1 ? true : undefined));
    const scale = (await custom.getNamespacedCustomObjectScale({ ...crd('agentpools'), namespace: ns, name: 'chat' })) as {
      status?: { selector?: string; replicas?: number };
    };
    t.equal(scale.status?.selector, `${Labels.agentPool}=chat`, 'the pool scale publishes the selector, so HPA and KEDA count its pods');
    await core.deleteNamespacedPod({ name: 'chat-c', namespace: ns });
    await core.deleteNamespacedPod({ name: 'chat-b', namespace: ns });
    pool = await eventually('status back at 1 ready', async () => {
      const p = await readPool('chat');
      return p.status?.replicas === 1 && condition(p, 'Ready')?.status === 'True' ? p : undefined;
    });
    t.match(condition(pool, 'Ready'), { reason: 'ReplicasReady', message: '1 of 1 ready' });
  });

  await t.test('prewarmPercent: the target runs the warm replicas too, the pool reports them, its scale keeps the serving count', async (t) => {
    await eventually('Deployment warm scaled to 4 + 1', async () => ((await deploymentReplicas('warm')) === 5 ? true : undefined));
    for (let i = 0; i < 5; i++) await readyPod(`warm-${i}`, { app: 'warm', [Labels.agentPool]: 'warm' });
    const pool = await eventually('status with the warm replica', async () => {
      const p = await readPool('warm');
      return p.status?.replicas === 5 && p.status.readyReplicas === 5 && p.status.prewarmedReplicas === 1 ? p : undefined;
    });
    t.match(condition(pool, 'Ready'), { status: 'True', message: '4 of 4 ready, 1 of 1 warm' });
    t.match(condition(pool, 'Scaling'), { status: 'False', reason: 'Steady', message: 'at 5 replicas (4 + 1 warm), as desired' });
    const rescaled = await eventually('a Rescaled event', async () => ((await events('warm', 'Rescaled')).length > 0 ? events('warm', 'Rescaled') : undefined));
    t.match(rescaled[0]?.message, 'Deployment warm: 1 → 5 replicas (4 + 1 warm)');
    const scale = (await custom.getNamespacedCustomObjectScale({ ...crd('agentpools'), namespace: ns, name: 'warm' })) as { spec?: { replicas?: number } };
    t.equal(scale.spec?.replicas, 4, 'kubectl scale, HPA and KEDA see the serving count');
    // Scaled to zero, nothing stays warm.
    await scalePool('warm', 0);
    await eventually('Deployment warm scaled to 0', async () => ((await deploymentReplicas('warm')) === 0 ? true : undefined));
  });

  await t.test('a target that does not exist: a condition and an Event, nothing crashes', async (t) => {
    const pool = await eventually('ghost has its condition', async () => {
      const p = await readPool('ghost');
      return condition(p, 'AbleToScale')?.reason === 'TargetNotFound' ? p : undefined;
    });
    t.match(condition(pool, 'AbleToScale'), { status: 'False', message: 'Deployment agents/nowhere (apps/v1) does not exist' });
    t.match(condition(pool, 'Ready'), { status: 'False', reason: 'TargetNotFound' });
    const warned = await eventually('a TargetNotFound event', async () =>
      (await events('ghost', 'TargetNotFound')).length > 0 ? events('ghost', 'TargetNotFound') : undefined,
    );
    t.equal(warned.length, 1, 'one Event however many rounds it lasts');
    const why = (await app.inject({ method: 'GET', url: `/pools/${ns}/ghost/why` })).json<PoolWhy>();
    t.match(why.answer[0], 'the target cannot be scaled: Deployment agents/nowhere (apps/v1) does not exist', 'the most decisive reason first');
  });

  await t.test('a kind with no scale subresource is named as such', async (t) => {
    const pool = await eventually('jobs has its condition', async () => {
      const p = await readPool('jobs');
      return condition(p, 'AbleToScale')?.reason === 'NoScaleSubresource' ? p : undefined;
    });
    t.match(condition(pool, 'AbleToScale')?.message, 'Job (batch/v1) has no scale subresource');
    await eventually('a NoScaleSubresource event', async () => ((await events('jobs', 'NoScaleSubresource')).length > 0 ? true : undefined));
  });

  await t.test("a selector over another pool's pods holds the scale and says so", async (t) => {
    const pool = await eventually('greedy has its condition', async () => {
      const p = await readPool('greedy');
      return condition(p, 'AbleToScale')?.reason === 'AmbiguousSelector' ? p : undefined;
    });
    t.match(condition(pool, 'AbleToScale')?.message, /selector app=shared also matches pods of pool chat \(chat-a/);
    t.equal(await deploymentReplicas('greedy'), 1, 'not scaled to 4 while ambiguous');
    await eventually('an AmbiguousSelector event', async () => ((await events('greedy', 'AmbiguousSelector')).length > 0 ? true : undefined));
  });

  await t.test('a pod template without the pool label is scaled, with a warning', async (t) => {
    const pool = await eventually('bare has its condition', async () => {
      const p = await readPool('bare');
      return condition(p, 'Ready')?.reason === 'PodsUnlabelled' ? p : undefined;
    });
    t.match(condition(pool, 'Ready')?.message, `the target's pod template has no label ${Labels.agentPool}: bare`);
    t.match(condition(pool, 'AbleToScale'), { status: 'True' });
  });

  await t.test('kubectl get apool -o wide shows state and reasons (the Table the API server renders)', async (t) => {
    const { body } = await request(`${cp.server}/apis/neuronetes.io/v1alpha1/namespaces/${ns}/agentpools?includeObject=None`, {
      dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
      headers: { authorization: `Bearer ${cp.token}`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
      signal: AbortSignal.timeout(10_000),
    });
    const table = (await body.json()) as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    const columns = table.columnDefinitions.map((c) => c.name);
    t.same(columns, ['Name', 'Class', 'Min', 'Max', 'Desired', 'Replicas', 'Ready', 'Warm', 'Status', 'Target', 'GPU', 'Scaling', 'Capacity', 'Why', 'Age']);
    const ghost = table.rows.find((r) => r.cells[0] === 'ghost')?.cells ?? [];
    t.equal(ghost[columns.indexOf('Status')], 'TargetNotFound');
    t.equal(ghost[columns.indexOf('Target')], 'nowhere');
    t.match(ghost[columns.indexOf('Why')], /does not exist/);
  });

  await t.test('the same Event again is one Event with a count; deleted, it starts again', async (t) => {
    const recorder = new KubernetesPoolEvents(asServe(), log, 'e2e-count');
    const target = await readPool('bare');
    const event = { type: 'Warning', reason: 'E2ERepeated', message: 'the same thing again' } as const;
    for (let i = 0; i < 3; i++) await recorder.record(target, event);
    let seen = await events('bare', 'E2ERepeated');
    t.same(seen, [{ type: 'Warning', message: 'the same thing again', count: 3 }]);
    await core.deleteCollectionNamespacedEvent({ namespace: ns, fieldSelector: 'reason=E2ERepeated' });
    await recorder.record(target, event);
    seen = await events('bare', 'E2ERepeated');
    t.same(seen, [{ type: 'Warning', message: 'the same thing again', count: 1 }], 'a new series once the old Event is gone');
  });

  await t.test('why for an unknown pool is a 404', async (t) => {
    const reply = await app.inject({ method: 'GET', url: `/pools/${ns}/nobody/why` });
    t.equal(reply.statusCode, 404);
    t.match(reply.json(), { code: 'NN_UNKNOWN_POOL' });
  });
}
