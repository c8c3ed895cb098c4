/**
 * Autoscaling against a real kube-apiserver (+ etcd): the autoscaler's history persisted in the
 * AgentPool's status by the leader and read back after a restart, concurrent decisions losing no
 * write, and the actuator — spec.replicas raised through the scale subresource, status.currentMetrics
 * and lastScaleTime written, running as the shipped ServiceAccount, and a follower writing nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CustomObjectsApi, PatchStrategy, V1MicroTime, setHeaderOptions } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { stringify } from 'yaml';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { decodeState, type PoolAutoscalerState } from '../../src/autoscaling/autoscaler-state.ts';
import { KubernetesSource, LEADER_LEASE_NAME, type KubernetesSourceOptions } from '../../src/cluster/kubernetes-source.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { buildApp, type BuildAppOptions, type NeuroNetesApp } from '../../src/server/app.ts';
import { eventually, findKubeBinaries, sleep } from './control-plane.ts';
import { agentPool, createCustom, crd, shippedServiceAccount, startAgentCluster } from './kube-fixtures.ts';

interface Reply {
  desiredReplicas: number;
  reason: string;
}

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(300_000);
  const log = pino({ level: process.env['E2E_LOG'] ?? 'silent' });
  const ns = 'agents';
  const { cp, kc } = await startAgentCluster(t, bins, ns);
  const custom = kc.makeApiClient(CustomObjectsApi);

  // The static metrics provider reads `metrics.neuronetes.io/<metric>` from the pool: no Prometheus.
  const dir = await mkdtemp(join(tmpdir(), 'nn-e2e-autoscaling-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const configPath = join(dir, 'config.yaml');
  await writeFile(
    configPath,
    stringify({
      'autoscaler-plugins': [{ name: 'slo', enabled: false }],
      'metrics-provider-plugins': [
        { name: 'prometheus', enabled: false },
        { name: 'pods', enabled: false },
      ],
    }),
  );

  const scaledPool = (name: string, queueDepth: number, spec: Record<string, unknown> = {}): Record<string, unknown> => {
    const base = agentPool(name, { minReplicas: 1, maxReplicas: 20, replicas: 2, autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] }, ...spec });
    return { ...base, metadata: { ...(base['metadata'] as object), annotations: { 'metrics.neuronetes.io/queue-depth': String(queueDepth) } } };
  };
  const readPool = async (name: string): Promise<AgentPool> =>
    (await custom.getNamespacedCustomObject({ ...crd('agentpools'), namespace: ns, name })) as AgentPool;
  const setQueueDepth = async (name: string, value: number): Promise<void> => {
    const body = { metadata: { annotations: { 'metrics.neuronetes.io/queue-depth': String(value) } } };
    await custom.patchNamespacedCustomObject({ ...crd('agentpools'), namespace: ns, name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  };
  const persisted = async (name: string): Promise<PoolAutoscalerState | undefined> => decodeState((await readPool(name)).status?.autoscalerState);

  const apps: NeuroNetesApp[] = [];
  t.teardown(async () => {
    for (const a of apps) await a.close();
  });
  const start = async (options: Partial<KubernetesSourceOptions> = {}, app: Partial<BuildAppOptions> = {}): Promise<NeuroNetesApp> => {
    const cluster = new KubernetesSource({ kubeConfig: cp.kubeConfig(), log, rebuildDelayMs: 20, backoff: { initialMs: 100, maxMs: 1_000 }, ...options });
    const built = await buildApp({ cluster, configPath, logger: log, metrics: createMetrics({ defaultMetrics: false }), watchConfig: false, ...app });
    apps.push(built);
    await built.ready();
    return built;
  };
  const stop = async (app: NeuroNetesApp): Promise<void> => {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  };
  const decide = async (app: NeuroNetesApp, pool: string, currentReplicas: number): Promise<Reply> =>
    (await app.inject({ method: 'GET', url: `/autoscaler/pools/${ns}/${pool}?currentReplicas=${currentReplicas}` })).json<Reply>();
  const inView = (app: NeuroNetesApp, pool: string, check: (p: AgentPool) => boolean = () => true): Promise<true> =>
    eventually(`${pool} in the view`, () => {
      const p = app.neuronetes.cluster.view().pool(ns, pool);
      return p !== undefined && check(p) ? true : undefined;
    });

  await t.test('the leader persists the history in status.autoscalerState; a restart resumes the rate limit from it', async (t) => {
    await createCustom(kc, ns, 'agentpools', scaledPool('restart', 40));
    const first = await start();
    await inView(first, 'restart');
    t.equal((await decide(first, 'restart', 2)).desiredReplicas, 4, 'queue 40 / 10 per replica');
    const state = await eventually('the state in the pool status', () => persisted('restart'));
    t.equal(state.lastObservedReplicas, 2);
    t.same(
      state.recommendations.map((r) => r.replicas),
      [2, 4],
      'first-seen record, then the decision',
    );
    await stop(first);

    await setQueueDepth('restart', 200);
    const second = await start();
    await inView(second, 'restart', (p) => p.status?.autoscalerState !== undefined && p.metadata.annotations?.['metrics.neuronetes.io/queue-depth'] === '200');
    const d = await decide(second, 'restart', 4);
    t.equal(d.desiredReplicas, 6, 'the 2 → 4 scale seen against the persisted history counts: max(2 + 4, 2 × 2); without it 8');
    t.equal(d.reason, 'ScaleUpLimit');
    await stop(second);
  });

  await t.test('concurrent decisions for one pool lose no write', async (t) => {
    await createCustom(kc, ns, 'agentpools', scaledPool('busy', 40));
    const app = await start();
    await inView(app, 'busy');
    await Promise.all(Array.from({ length: 12 }, (_, i) => decide(app, 'busy', i + 1)));
    // Twelve distinct counts, serialized: whatever the order, eleven observed changes, all in the last write.
    const state = await persisted('busy');
    t.equal(state?.scaleEvents.length, 11, 'each decision saw the one before it: no write lost or overtaken');
    const first = (state?.lastObservedReplicas ?? 0) - (state?.scaleEvents ?? []).reduce((sum, e) => sum + e.change, 0);
    t.ok(first >= 1 && first <= 12, `the changes add up from the first count seen (${first})`);
    await stop(app);
  });

  await t.test('the actuator raises spec.replicas through the scale subresource and writes status', async (t) => {
    await createCustom(kc, ns, 'agentpools', scaledPool('grow', 65, { replicas: 2, maxReplicas: 5 }));
    await createCustom(kc, ns, 'agentpools', scaledPool('steady', 20, { replicas: 2 }));
    const app = await start({}, { actuator: { intervalMs: 300 } });
    const pool = await eventually(
      'spec.replicas raised',
      async () => {
        const p = await readPool('grow');
        return p.spec.replicas === 5 ? p : undefined;
      },
      30_000,
    );
    t.equal(pool.spec.replicas, 5, 'ceil(65 / 10) = 7, capped at maxReplicas 5');
    const status = await eventually('status written', async () => {
      const p = await readPool('grow');
      return p.status?.lastScaleTime !== undefined && p.status.currentMetrics !== undefined ? p.status : undefined;
    });
    t.match(status.currentMetrics, [{ type: 'queue-depth', current: '65', target: '10' }]);
    t.ok(Number.isFinite(Date.parse(status.lastScaleTime ?? '')), 'lastScaleTime is a time');
    const steady = await eventually('the steady pool visited', async () => {
      const p = await readPool('steady');
      return p.status?.currentMetrics !== undefined ? p : undefined;
    });
    t.equal(steady.spec.replicas, 2, 'ceil(20 / 10) = 2: no write to the scale');
    t.equal(steady.status?.lastScaleTime, undefined, 'and no scale time');
    // The counters move once a round's writes have returned, which may be after the API server shows them.
    const counted = /neuronetes_autoscaler_actuations_total\{pool="agents\/steady",result="unchanged"\} [1-9]/;
    const metrics = await eventually('the round counted', async () => {
      const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      return counted.test(body) ? body : undefined;
    });
    t.match(metrics, /neuronetes_autoscaler_actuations_total\{pool="agents\/grow",result="scaled"\} [1-9]/);
    t.match(metrics, counted);
    await stop(app);
    const after = (await readPool('grow')).metadata.resourceVersion;
    await sleep(1_000);
    t.equal((await readPool('grow')).metadata.resourceVersion, after, 'closed: nothing writes any more');
  });

  await t.test('the actuator wakes a pool at zero replicas on an additive metric', async (t) => {
    await createCustom(kc, ns, 'agentpools', scaledPool('asleep', 95, { minReplicas: 0, replicas: 0 }));
    const app = await start({}, { actuator: { intervalMs: 300 } });
    // ceil(95 / 10) = 10; HPA's scale-up limit from 0 is max(0 + 4, 0 × 2) = 4, then max(4 + 4, 4 × 2) = 8…
    const woken = await eventually(
      'spec.replicas raised from 0',
      async () => {
        const p = await readPool('asleep');
        return (p.spec.replicas ?? 0) > 0 ? p : undefined;
      },
      30_000,
    );
    t.equal(woken.spec.replicas, 4);
    t.match(woken.status?.currentMetrics, [{ type: 'queue-depth', current: '95', target: '10' }]);
    await stop(app);
  });

  await t.test('the CRD refuses autoscaling durations past their bounds', async (t) => {
    const refused = async (name: string, autoscaling: Record<string, unknown>, message: RegExp): Promise<void> => {
      const error = await createCustom(kc, ns, 'agentpools', agentPool(name, { autoscaling })).then(
        () => undefined,
        (e: unknown) => e,
      );
      t.match(String((error as { body?: unknown } | undefined)?.body ?? error), message, `${name} refused`);
    };
    await refused('cooldown-overflow', { cooldownPeriod: '999999999999h' }, /cooldownPeriod/);
    await refused('cooldown-long', { cooldownPeriod: '25h' }, /autoscaling.cooldownPeriod must be a duration of at most 24h/);
    await refused('window-long', { behavior: { scaleDown: { stabilizationWindow: '61m' } } }, /scaleDown.stabilizationWindow must be a duration of at most 1h/);
    await refused('period-long', { behavior: { scaleUp: { periodSeconds: 1801 } } }, /periodSeconds.*1800/);
    await refused(
      'averaging-long',
      {
        metrics: [
          { type: 'queue-depth', target: '10' },
          { type: 'ttft-p95', target: '1s', averagingWindow: '2h' },
        ],
      },
      /averagingWindow must be a duration of at most 1h/,
    );
    const atBounds = {
      cooldownPeriod: '24h',
      behavior: { scaleUp: { stabilizationWindow: '1h', periodSeconds: 1800 } },
      metrics: [{ type: 'queue-depth', target: '10', averagingWindow: '1h' }],
    };
    await createCustom(kc, ns, 'agentpools', agentPool('at-bounds', { autoscaling: atBounds }));
    t.same((await readPool('at-bounds')).spec.autoscaling, atBounds, 'the bounds themselves are accepted');
  });

  await t.test('as the shipped ServiceAccount: the leader scales; when it leaves, the follower takes over', async (t) => {
    const asServe = await shippedServiceAccount(kc, cp.server, 'neuronetes-extender', 'rbac-serve.yaml');
    await createCustom(kc, ns, 'agentpools', scaledPool('shared', 50, { replicas: 1, maxReplicas: 10 }));
    const election = (identity: string): NonNullable<KubernetesSourceOptions['leaderElection']> => ({
      namespace: 'neuronetes-system',
      name: LEADER_LEASE_NAME,
      identity,
    });
    const leader = await start({ kubeConfig: asServe(), leaderElection: election('replica-a') }, { actuator: { intervalMs: 300 } });
    await eventually('replica-a to lead', () => (leader.neuronetes.cluster.isLeader?.() === true ? true : undefined));
    const follower = await start({ kubeConfig: asServe(), leaderElection: election('replica-b') }, { actuator: { intervalMs: 300 } });
    await inView(follower, 'shared');
    t.equal(follower.neuronetes.cluster.isLeader?.(), false, 'replica-b follows');

    const raised = await eventually('the leader to scale as the ServiceAccount', async () => {
      const p = await readPool('shared');
      return p.spec.replicas === 5 && p.status?.autoscalerState !== undefined ? p : undefined;
    });
    t.equal(raised.spec.replicas, 5, 'agentpools/scale patch is granted');
    t.ok(decodeState(raised.status?.autoscalerState), 'agentpools/status patch carries the history');

    // The leader stops for good (its Lease released); a pool changed meanwhile shows who writes.
    await stop(leader);
    await setQueueDepth('shared', 90);
    await eventually('the follower to take the released Lease', () => (follower.neuronetes.cluster.isLeader?.() === true ? true : undefined), 15_000);
    // From the persisted history: the 1 → 5 scale holds the next one back for its 15 s period.
    const taken = await eventually(
      'the new leader to scale',
      async () => {
        const p = await readPool('shared');
        return p.spec.replicas === 9 ? p : undefined;
      },
      45_000,
    );
    t.equal(taken.spec.replicas, 9, 'it writes once it leads');
    await stop(follower);
  });

  await t.test('a follower decides but writes nothing, while another replica holds the Lease', async (t) => {
    await createCustom(kc, ns, 'agentpools', scaledPool('watched', 80, { replicas: 1 }));
    const leases = kc.makeApiClient(CoordinationV1Api);
    // Someone else leads, and keeps renewing for the length of the test.
    await leases.createNamespacedLease({
      namespace: ns,
      body: { metadata: { name: 'held', namespace: ns }, spec: { holderIdentity: 'elsewhere', leaseDurationSeconds: 3600, renewTime: new V1MicroTime() } },
    });
    const follower = await start({ leaderElection: { namespace: ns, name: 'held', identity: 'follower' } }, { actuator: { intervalMs: 200 } });
    await inView(follower, 'watched');
    const before = (await readPool('watched')).metadata.resourceVersion;
    t.equal((await decide(follower, 'watched', 1)).desiredReplicas, 5, 'the follower still answers GET (min(8, 1 + 4): one step of the rate limit)');
    await sleep(1_500);
    const after = await readPool('watched');
    t.equal(after.metadata.resourceVersion, before, 'no scale, no status, no state written by a follower');
    t.equal(after.spec.replicas, 1);
    t.equal(follower.neuronetes.cluster.isLeader?.(), false);
    await stop(follower);
  });
}
