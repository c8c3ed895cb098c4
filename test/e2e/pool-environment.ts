/**
 * What the pool e2e files share: a control plane with the CRDs, namespace `agents` and the shipped
 * serve ServiceAccount; the service as that account, with the pool controller (and the actuator
 * when asked) and the static metrics provider only; and readers of pools, targets and Events.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import type { AgentPool, Condition } from '../../src/api/neuronetes.ts';
import { KubernetesSource } from '../../src/cluster/kubernetes-source.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { KubernetesPoolEvents } from '../../src/pools/pool-events.ts';
import { KubernetesScaleTargets } from '../../src/pools/scale-target.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';
import { freePort, type ControlPlane, type KubeBinaries } from './control-plane.ts';
import { crd, shippedServiceAccount, startAgentCluster } from './kube-fixtures.ts';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface PoolEnvironment {
  readonly cp: ControlPlane;
  readonly kc: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly ns: string;
  readonly log: Logger;
  /** A new kubeconfig acting as the shipped serve ServiceAccount. */
  readonly asServe: () => KubeConfig;
  readPool(name: string): Promise<AgentPool>;
  condition(pool: AgentPool, type: string): Condition | undefined;
  deploymentReplicas(name: string): Promise<number | undefined>;
  /** The pool's Events of that reason. */
  events(pool: string, reason: string): Promise<{ type: string; message: string; count: number }[]>;
  /** Builds and starts the service; `base` is its loopback URL. */
  startService(options?: { actuatorIntervalMs?: number }): Promise<{ app: NeuroNetesApp; base: string }>;
}

export async function poolEnvironment(t: Teardown, bins: KubeBinaries): Promise<PoolEnvironment> {
  const ns = 'agents';
  const { cp, kc } = await startAgentCluster(t, bins, ns);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const asServe = await shippedServiceAccount(kc, cp.server, 'neuronetes-extender', 'rbac-serve.yaml');
  const log: Logger = pino({ level: process.env['E2E_LOG'] ?? 'silent' });

  const startService = async (options: { actuatorIntervalMs?: number } = {}): Promise<{ app: NeuroNetesApp; base: string }> => {
    const dir = await mkdtemp(join(tmpdir(), 'nn-e2e-pools-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const configPath = join(dir, 'config.yaml');
    const config = {
      'autoscaler-plugins': [{ name: 'slo', enabled: false }],
      'metrics-provider-plugins': [
        { name: 'prometheus', enabled: false },
        { name: 'pods', enabled: false },
      ],
    };
    await writeFile(configPath, stringify(config));
    const serveKc = asServe();
    const app = await buildApp({
      cluster: new KubernetesSource({ kubeConfig: asServe(), log, rebuildDelayMs: 20, backoff: { initialMs: 100, maxMs: 1_000 } }),
      configPath,
      logger: log,
      metrics: createMetrics({ defaultMetrics: false }),
      watchConfig: false,
      scaleTargets: new KubernetesScaleTargets(serveKc),
      ...(options.actuatorIntervalMs !== undefined ? { actuator: { intervalMs: options.actuatorIntervalMs } } : {}),
      poolController: { intervalMs: 400, recountDelayMs: 50, events: new KubernetesPoolEvents(serveKc, log, 'e2e') },
    });
    t.teardown(() => app.close());
    const port = await freePort();
    await app.listen({ port, host: '127.0.0.1' });
    return { app, base: `http://127.0.0.1:${port}` };
  };

  return {
    cp,
    kc,
    custom,
    apps,
    core,
    ns,
    log,
    asServe,
    readPool: async (name) => (await custom.getNamespacedCustomObject({ ...crd('agentpools'), namespace: ns, name })) as AgentPool,
    condition: (pool, type) => pool.status?.conditions?.find((c) => c.type === type),
    deploymentReplicas: async (name) => (await apps.readNamespacedDeployment({ name, namespace: ns })).spec?.replicas,
    events: async (pool, reason) =>
      (
        await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.kind=AgentPool,involvedObject.name=${pool},reason=${reason}` })
      ).items.map((e) => ({ type: e.type ?? '', message: e.message ?? '', count: e.count ?? 0 })),
    startService,
  };
}
