/** Objects the e2e suites put into a real API server: CRDs, GPU nodes (status patched), pods, pools. */
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { parse } from 'yaml';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  loadAllYaml,
  loadYaml,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1CustomResourceDefinition,
  type V1Pod,
} from '@kubernetes/client-node';
import { GPU_RESOURCE } from '../../src/api/kubernetes.ts';
import { GROUP, Labels, VERSION } from '../../src/api/neuronetes.ts';
import { PooledKubeConfig } from '../../src/cluster/kube-api.ts';
import { eventually, forEachConcurrently, startControlPlane, type ControlPlane, type ControlPlaneOptions, type KubeBinaries } from './control-plane.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Applies the shipped namespace, ServiceAccounts and `rbacFile`, and returns a maker of kubeconfigs
 * acting as `serviceAccount` (a TokenRequest token), loaded as the service loads its own: RBAC tests
 * run with exactly what the manifests grant. One kubeconfig per replica, as separate processes have.
 */
export async function shippedServiceAccount(kc: KubeConfig, server: string, serviceAccount: string, rbacFile: string): Promise<() => KubeConfig> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const file of ['namespace.yaml', 'serviceaccounts.yaml', rbacFile]) {
    for (const obj of loadAllYaml(await readFile(join(REPO, 'manifests', file), 'utf8')) as KubernetesObject[]) await objects.create(obj);
  }
  const { status } = await kc
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccountToken({ name: serviceAccount, namespace: 'neuronetes-system', body: { spec: { audiences: [] } } });
  const token = status?.token ?? '';
  return () => {
    const as = new PooledKubeConfig();
    as.loadFromOptions({
      clusters: [{ name: 'e2e', server, skipTLSVerify: true }],
      users: [{ name: serviceAccount, token }],
      contexts: [{ name: 'e2e', cluster: 'e2e', user: serviceAccount }],
      currentContext: 'e2e',
    });
    return as;
  };
}

/** A control plane with the shipped CRDs and namespace `ns`, stopped at the test's teardown. */
export async function startAgentCluster(
  t: { teardown(fn: () => unknown): void },
  bins: KubeBinaries,
  ns: string,
  options?: ControlPlaneOptions,
): Promise<{ cp: ControlPlane; kc: KubeConfig }> {
  const cp = await startControlPlane(bins, options);
  t.teardown(() => cp.stop());
  const kc = cp.kubeConfig();
  await applyCrds(kc);
  await createNamespace(kc, ns);
  return { cp, kc };
}

export async function applyCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const dir = join(REPO, 'manifests', 'crds');
  const names: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml'))) {
    // loadYaml maps the YAML onto the client's models (enum → _enum…); a plain object would lose fields.
    const body = loadYaml<V1CustomResourceDefinition>(await readFile(join(dir, file), 'utf8'));
    await api.createCustomResourceDefinition({ body });
    names.push(body.metadata?.name ?? '');
  }
  for (const name of names) {
    await eventually(`CRD ${name} to be established`, async () => {
      const crd = await api.readCustomResourceDefinition({ name });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true ? true : undefined;
    });
  }
}

export interface NodeShape {
  gpus: number;
  gpuType?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** false: only `labels` (and the hostname), as on a node GFD and the cloud labelled; default true. */
  neuronetesLabels?: boolean;
  /** Extended resources besides nvidia.com/gpu (e.g. nvidia.com/mig-1g.10gb), in capacity and allocatable. */
  resources?: Record<string, string>;
}

/** A Node with GPU capacity and a Ready condition, as a kubelet would report it. */
export async function createGpuNode(kc: KubeConfig, name: string, shape: NodeShape): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const own = shape.neuronetesLabels === false ? {} : { [Labels.gpuType]: shape.gpuType ?? 'A100', [Labels.gpuCount]: String(shape.gpus) };
  const labels = { 'kubernetes.io/hostname': name, ...own, ...shape.labels };
  await core.createNode({ body: { metadata: { name, labels, ...(shape.annotations !== undefined ? { annotations: shape.annotations } : {}) } } });
  const resources = { cpu: '32', memory: '256Gi', pods: '110', [GPU_RESOURCE]: String(shape.gpus), ...shape.resources };
  await core.patchNodeStatus(
    {
      name,
      body: {
        status: {
          capacity: resources,
          allocatable: resources,
          conditions: [
            { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'e2e', lastHeartbeatTime: new Date(), lastTransitionTime: new Date() },
          ],
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Many GPU nodes at once, `concurrency` API writes in flight (the API server on 2 cores prefers a few). */
export async function createGpuNodes(kc: KubeConfig, nodes: readonly { name: string; shape: NodeShape }[], concurrency = 16): Promise<void> {
  await forEachConcurrently(nodes, concurrency, (n) => createGpuNode(kc, n.name, n.shape));
}

export async function labelNode(kc: KubeConfig, name: string, labels: Record<string, string>): Promise<void> {
  await kc.makeApiClient(CoreV1Api).patchNode({ name, body: { metadata: { labels } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

export interface PodShape {
  gpus?: number;
  /** Other extended resources requested (and limited), e.g. {'nvidia.com/mig-1g.10gb': '1'}. */
  resources?: Record<string, string>;
  pool?: string;
  schedulerName?: string;
  labels?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  priorityClassName?: string;
  /** Bound at creation, as a pod placed earlier would be. */
  nodeName?: string;
}

export async function createPod(kc: KubeConfig, namespace: string, name: string, shape: PodShape = {}): Promise<V1Pod> {
  const gpus = shape.gpus ?? 0;
  const wanted = { ...(gpus > 0 ? { [GPU_RESOURCE]: String(gpus) } : {}), ...shape.resources };
  const resources = Object.keys(wanted).length > 0 ? { requests: wanted, limits: wanted } : {};
  return kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: { ...(shape.pool !== undefined ? { [Labels.agentPool]: shape.pool } : {}), ...shape.labels } },
      spec: {
        ...(shape.schedulerName !== undefined ? { schedulerName: shape.schedulerName } : {}),
        ...(shape.nodeSelector !== undefined ? { nodeSelector: shape.nodeSelector } : {}),
        ...(shape.priorityClassName !== undefined ? { priorityClassName: shape.priorityClassName } : {}),
        ...(shape.nodeName !== undefined ? { nodeName: shape.nodeName } : {}),
        containers: [{ name: 'agent', image: 'registry.invalid/agent:e2e', resources }],
      },
    },
  });
}

export async function createNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

export const crd = (plural: string): { group: string; version: string; plural: string } => ({ group: GROUP, version: VERSION, plural });

export async function createCustom(kc: KubeConfig, namespace: string, plural: string, body: Record<string, unknown>): Promise<unknown> {
  return kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...crd(plural), namespace, body });
}

export function agentPool(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'AgentPool',
    metadata: { name },
    spec: { agentClassRef: { name: 'assistant' }, minReplicas: 1, maxReplicas: 4, replicas: 1, gpuRequirements: { count: 1, type: 'A100' }, ...spec },
  };
}

export async function createAgentObjects(kc: KubeConfig, namespace: string, pool: string): Promise<void> {
  await createCustom(kc, namespace, 'models', {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Model',
    metadata: { name: 'llama' },
    spec: { weightsURI: 'hf://meta/llama', size: '16Gi' },
  });
  await createCustom(kc, namespace, 'agentclasses', {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'AgentClass',
    metadata: { name: 'assistant' },
    spec: { modelRef: { name: 'llama' } },
  });
  await createCustom(kc, namespace, 'agentpools', agentPool(pool));
}

/** Where a pod is bound ('' while pending). */
export async function nodeOf(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const pod = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ namespace, name });
  return pod.spec?.nodeName ?? '';
}

/** Messages of the pod's events with this reason, oldest first. */
export async function podEvents(kc: KubeConfig, namespace: string, name: string, reason: string): Promise<string[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name},reason=${reason}` });
  return list.items.map((e) => e.message ?? '');
}

/**
 * A shipped scheduler-config/ file as an e2e kube-scheduler runs it: managedResources and the rest as
 * shipped, with a profile of its own, quick retries (production keeps the defaults, 1s / 10s) and
 * the extender at `base`.
 */
export async function shippedSchedulerConfig(file: string, schedulerName: string, base: string): Promise<Record<string, unknown>> {
  const config = parse(await readFile(join(REPO, 'scheduler-config', file), 'utf8')) as { extenders: Record<string, unknown>[] };
  return {
    ...config,
    profiles: [{ schedulerName }],
    podInitialBackoffSeconds: 1,
    podMaxBackoffSeconds: 2,
    extenders: config.extenders.map((e) => ({ ...e, urlPrefix: `${base}/scheduler` })),
  };
}

/** The service's scheduler trace for one pod, newest first. */
export async function schedulerTrace<T>(base: string, namespace: string, pod: string): Promise<T[]> {
  const { body } = await request(`${base}/debug/plugins/scheduler/trace?pod=${encodeURIComponent(`${namespace}/${pod}`)}&limit=50`);
  return ((await body.json()) as { decisions: T[] }).decisions;
}

/** The node the pod is bound to, once it is. */
export const boundNode = (kc: KubeConfig, namespace: string, pod: string, timeoutMs = 60_000): Promise<string> =>
  eventually(
    `${pod} to be bound`,
    async () => {
      const node = await nodeOf(kc, namespace, pod);
      return node === '' ? undefined : node;
    },
    timeoutMs,
  );
