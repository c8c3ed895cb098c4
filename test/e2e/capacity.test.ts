/**
 * The capacity stage against a real kube-apiserver (+ etcd) and kube-scheduler: two pools whose
 * metrics ask for 4 replicas of 2×H100 each, each confined by its nodeSelector to one 4-GPU node
 * where one replica already runs. The actuator asks for all 4 for the pool with the default
 * (requestUnplaceable) and holds the other at the 2 that fit; both pools show CapacityLimited and a
 * Warning Event, /why says it, and kube-scheduler, through the extender, places exactly the one more
 * replica the count said would fit.
 */
import t from 'tap';
import { GPU_RESOURCE } from '../../src/api/kubernetes.ts';
import { Labels } from '../../src/api/neuronetes.ts';
import type { PoolWhy } from '../../src/pools/pool-why.ts';
import { eventually, findKubeBinaries, sleep } from './control-plane.ts';
import { agentPool, createCustom, createGpuNode, createPod, nodeOf, podEvents, shippedSchedulerConfig } from './kube-fixtures.ts';
import { poolEnvironment } from './pool-environment.ts';

interface Reply {
  currentReplicas: number;
  desiredReplicas: number;
  placeableReplicas: number | null;
  shortfall: string | null;
  stages: { stage: string; reason: string; input: number; output: number }[];
}

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(90_000);
  const env = await poolEnvironment(t, bins);
  const { cp, kc, apps, core, ns, readPool, condition, deploymentReplicas, events } = env;

  /** A pool of 2×H100 replicas on the node labelled pool=<name>, its Deployment, and one replica running there. */
  const poolOnItsNode = async (name: string, autoscaling: Record<string, unknown>): Promise<void> => {
    await createGpuNode(kc, `h100-${name}`, { gpus: 4, gpuType: 'H100', labels: { pool: name } });
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name, [Labels.agentPool]: name } },
            spec: { containers: [{ name: 'agent', image: 'registry.invalid/agent:e2e' }] },
          },
        },
      },
    });
    const pool = agentPool(name, {
      minReplicas: 1,
      maxReplicas: 8,
      replicas: 1,
      gpuRequirements: { count: 2, type: 'H100' },
      scheduling: { nodeSelector: { pool: name } },
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      // The static provider reads the metric from the annotation: 40 queued / 10 per replica = 4.
      autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }], behavior: { scaleUp: { maxChangeAbsolute: 8 } }, ...autoscaling },
    });
    await createCustom(kc, ns, 'agentpools', { ...pool, metadata: { name, annotations: { 'metrics.neuronetes.io/queue-depth': '40' } } });
    const gpus = { [GPU_RESOURCE]: '2' };
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: `${name}-0`, labels: { app: name, [Labels.agentPool]: name } },
        spec: { nodeName: `h100-${name}`, containers: [{ name: 'agent', image: 'registry.invalid/agent:e2e', resources: { requests: gpus, limits: gpus } }] },
      },
    });
  };
  await poolOnItsNode('asks', {});
  await poolOnItsNode('holds', { requestUnplaceable: false });

  const { app, base } = await env.startService({ actuatorIntervalMs: 300 });

  const decision = async (name: string): Promise<Reply> =>
    (await app.inject({ method: 'GET', url: `/autoscaler/pools/${ns}/${name}?dryRun=true` })).json<Reply>();
  const shortfall = (name: string): string =>
    `wants 4, 2 can be placed: 2 more need 2×H100 each; gpu-fit on 1 node: needs 2×H100, node has 0 free (4 of 4 in use); ` +
    `node-selector on 1 node: pool's nodeSelector wants pool=${name}; node has pool=${name === 'asks' ? 'holds' : 'asks'}`;

  await t.test('requestUnplaceable (the default): all 4 asked for, the shortfall on the pool', async (t) => {
    await eventually('spec.replicas and the Deployment at 4', async () =>
      (await readPool('asks')).spec.replicas === 4 && (await deploymentReplicas('asks')) === 4 ? true : undefined,
    );
    const d = await decision('asks');
    t.match(d, { currentReplicas: 1, desiredReplicas: 4, placeableReplicas: 2, shortfall: shortfall('asks') });
    t.match(d.stages.at(-1), { stage: 'capacity', reason: 'CapacityShort', input: 4, output: 4 });
    const pool = await eventually('CapacityLimited on asks', async () => {
      const p = await readPool('asks');
      return condition(p, 'CapacityLimited')?.status === 'True' ? p : undefined;
    });
    t.match(condition(pool, 'CapacityLimited'), {
      reason: 'CapacityShort',
      message: `${shortfall('asks')}; asking for all 4 (requestUnplaceable) so that a cluster autoscaler can add nodes`,
    });
    const warned = await eventually('a CapacityShort event', async () =>
      (await events('asks', 'CapacityShort')).length > 0 ? events('asks', 'CapacityShort') : undefined,
    );
    t.match(warned, [{ type: 'Warning', message: shortfall('asks') }]);
  });

  await t.test('requestUnplaceable: false holds the scale-up at what can be placed', async (t) => {
    await eventually('spec.replicas and the Deployment at 2', async () =>
      (await readPool('holds')).spec.replicas === 2 && (await deploymentReplicas('holds')) === 2 ? true : undefined,
    );
    const d = await decision('holds');
    t.match(d, { desiredReplicas: 2, placeableReplicas: 2, shortfall: shortfall('holds') });
    t.match(d.stages.at(-1), { stage: 'capacity', reason: 'CapacityLimited', input: 4, output: 2 });
    const pool = await eventually('CapacityLimited on holds', async () => {
      const p = await readPool('holds');
      return condition(p, 'CapacityLimited')?.status === 'True' ? p : undefined;
    });
    t.match(condition(pool, 'CapacityLimited'), { reason: 'CapacityLimited', message: /holding at 2 \(requestUnplaceable: false\)$/ });
    await eventually('a CapacityLimited event', async () => ((await events('holds', 'CapacityLimited')).length > 0 ? true : undefined));
    t.equal((await events('holds', 'CapacityLimited')).length, 1, 'one Event however many rounds it holds');
    const why = (await app.inject({ method: 'GET', url: `/pools/${ns}/holds/why?replicas=4` })).json<PoolWhy>();
    t.match(why.autoscaler, { desiredReplicas: 2, heldBackBy: { stage: 'capacity', reason: 'CapacityLimited' }, capacity: { placeableReplicas: 2 } });
    t.match(why.answer, [/^the autoscaler decides 2, not 4: the metrics ask for 4, its capacity stage holds 2 \(CapacityLimited: wants 4, 2 can be placed/]);
  });

  await t.test('kube-scheduler, through the extender, places exactly the one more the count said', async (t) => {
    await cp.startScheduler('scheduler', await shippedSchedulerConfig('scheduler-config.yaml', 'neuronetes-names', base));
    for (const name of ['asks-1', 'asks-2'])
      await createPod(kc, ns, name, { gpus: 2, pool: 'asks', schedulerName: 'neuronetes-names', labels: { app: 'asks' } });
    const nodes = await eventually('one of the two bound', async () => {
      const bound = await Promise.all(['asks-1', 'asks-2'].map((name) => nodeOf(kc, ns, name)));
      return bound.some((n) => n !== '') ? bound : undefined;
    });
    t.same(
      nodes.filter((n) => n !== ''),
      ['h100-asks'],
      "one bound, on the pool's node",
    );
    const pending = nodes[0] === '' ? 'asks-1' : 'asks-2';
    const failed = await eventually('the other one unschedulable', async () => {
      const messages = await podEvents(kc, ns, pending, 'FailedScheduling');
      return messages.length > 0 ? messages : undefined;
    });
    // kube-scheduler's own resource fit (nvidia.com/gpu is not ignoredByScheduler) may say it before the extender does.
    t.match(failed.at(-1), /Insufficient nvidia\.com\/gpu|gpu-fit: needs 2×H100, node has 0 free \(4 of 4 in use\)/);
    await sleep(2_000);
    t.equal(await nodeOf(kc, ns, pending), '', 'and it stays pending');
    const d = await eventually('the decision counts the pending pod', async () => {
      const r = await decision('asks');
      return r.currentReplicas === 3 ? r : undefined;
    });
    t.match(d, { desiredReplicas: 4, placeableReplicas: 3 });
    t.match(
      d.shortfall,
      /^wants 4, 3 can be placed \(after the pool's 1 pending pod\): 1 more needs 2×H100 each; gpu-fit on 1 node: needs 2×H100, node has 0 free \(4 of 4 in use\)/,
    );
  });
}
