/**
 * The cluster as the API server knows it: informers over Nodes, Pods, AgentPools, AgentClasses and
 * Models, folded into an immutable ClusterState. A new picture is coalesced (at most once per
 * `rebuildDelayMs`) because thousands of nodes churn status constantly while view() must stay a
 * field read, and it is made from the last one and what changed: pods one by one, other kinds listed
 * again only when one of theirs changed, everything after a (re)list. Two pod informers keep the pod
 * cache small:
 *   - bound, non-terminal pods (GPU accounting: what holds resources on each node);
 *   - unbound pods of agent pools (label selector), so pending pods of pools are seen too (the
 *     pending-pods gauge, autoscaling) without caching every pending pod of the cluster.
 * Bind creates pods/binding with the pod's UID as precondition and assumes the pod on its node until
 * the informer confirms it.
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Compile } from 'typebox/compile';
import { podKey, type Node, type Pod } from '../api/kubernetes.ts';
import { AgentClass, AgentPool, GROUP, Labels, Model, VERSION } from '../api/neuronetes.ts';
import { AssumeCache } from './assume-cache.ts';
import { BindError, type ClusterSource, type PodBinding, type Readiness } from './cluster-source.ts';
import { ClusterState, podKeyOf, type ClusterView } from './cluster-view.ts';
import { apiErrorCode, apiErrorText, getJson, listAll } from './kube-api.ts';
import { LeaderElection } from './leader-election.ts';
import { SupervisedInformer, type InformerBackoff, type InformerHealth } from './supervised-informer.ts';

export type AgentPoolStatus = NonNullable<AgentPool['status']>;

export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** /readyz turns false when an informer has had no event or reconnect for this long (default 2m). */
  staleAfterMs?: number;
  /** Coalescing window for rebuilding the picture after changes (default 50ms). */
  rebuildDelayMs?: number;
  /** How long a bound pod counts on its node without the informer confirming it (default 30s). */
  assumeTtlMs?: number;
  /** start() resolves after every informer's first list, or after this long (default 30s; /readyz says why). */
  syncTimeoutMs?: number;
  backoff?: InformerBackoff;
  /** Lease-based leader election for writers; absent means this replica always leads. */
  leaderElection?: { namespace: string; name: string; identity: string };
  now?: () => number;
}

/** The Lease replicas of `neuronetes serve` elect a writer on (manifests/rbac-serve.yaml grants only it). */
export const LEADER_LEASE_NAME = 'neuronetes-extender';

const BOUND_ACTIVE_PODS = 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed';
const UNBOUND_PODS = 'spec.nodeName=';
const crdPath = (plural: string): string => `/apis/${GROUP}/${VERSION}/${plural}`;

const validators = { agentPool: Compile(AgentPool), agentClass: Compile(AgentClass), model: Compile(Model) };

type Informers = {
  nodes: SupervisedInformer<KubernetesObject>;
  boundPods: SupervisedInformer<KubernetesObject>;
  poolPods: SupervisedInformer<KubernetesObject>;
  agentPools: SupervisedInformer<KubernetesObject>;
  agentClasses: SupervisedInformer<KubernetesObject>;
  models: SupervisedInformer<KubernetesObject>;
};

/** Kinds whose every change makes a picture list them again; pods change one by one. */
type ListedKind = 'nodes' | 'agentPools' | 'agentClasses' | 'models';

/** What changed since the last picture: anything (a list, the start), or these kinds and pods. */
interface Changed {
  everything: boolean;
  readonly kinds: Set<ListedKind>;
  /** By `namespace/name`: the pod of an event about it (for its name and namespace). */
  readonly pods: Map<string, Pod>;
}

const nothingChanged = (): Changed => ({ everything: false, kinds: new Set(), pods: new Map() });

export class KubernetesSource implements ClusterSource {
  readonly kind = 'kubernetes';
  readonly #o: KubernetesSourceOptions;
  readonly #now: () => number;
  readonly #staleAfterMs: number;
  readonly #assumeTtlMs: number;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #informers: Informers;
  readonly #assumed: AssumeCache;
  readonly #leader: LeaderElection | undefined;
  readonly #listeners = new Set<(view: ClusterView) => void>();
  /** CRs that failed schema validation, by uid@resourceVersion, so each is logged once. */
  readonly #invalidSeen = new Set<string>();
  #view: ClusterState = new ClusterState({ nodes: [], pods: [], agentPools: [], agentClasses: [], models: [] }, 0);
  #version = 0;
  #changed: Changed = { ...nothingChanged(), everything: true };
  #rebuildTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: KubernetesSourceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#staleAfterMs = options.staleAfterMs ?? 120_000;
    const kc = options.kubeConfig;
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#assumeTtlMs = options.assumeTtlMs ?? 30_000;
    this.#assumed = new AssumeCache({
      ttlMs: this.#assumeTtlMs,
      now: this.#now,
      onExpired: (pod, node) => options.log.warn({ pod: podKey(pod), node }, 'assumed binding expired without the informer confirming it'),
    });
    const informer = (
      name: string,
      path: string,
      kind: ListedKind | 'pods',
      selectors: { labelSelector?: string; fieldSelector?: string } = {},
    ): SupervisedInformer<KubernetesObject> =>
      new SupervisedInformer({
        name,
        kubeConfig: kc,
        path,
        list: () => listAll(kc, path, selectors),
        ...selectors,
        onChange: (object) => this.#note(kind, object),
        log: options.log,
        backoff: options.backoff ?? { initialMs: 500, maxMs: 30_000 },
        silentAfterMs: this.#staleAfterMs,
        now: this.#now,
      });
    this.#informers = {
      nodes: informer('nodes', '/api/v1/nodes', 'nodes'),
      boundPods: informer('pods (bound)', '/api/v1/pods', 'pods', { fieldSelector: BOUND_ACTIVE_PODS }),
      poolPods: informer('pods (pending, of agent pools)', '/api/v1/pods', 'pods', { fieldSelector: UNBOUND_PODS, labelSelector: Labels.agentPool }),
      agentPools: informer('agentpools', crdPath('agentpools'), 'agentPools'),
      agentClasses: informer('agentclasses', crdPath('agentclasses'), 'agentClasses'),
      models: informer('models', crdPath('models'), 'models'),
    };
    const le = options.leaderElection;
    this.#leader =
      le === undefined
        ? undefined
        : new LeaderElection({
            api: kc.makeApiClient(CoordinationV1Api),
            namespace: le.namespace,
            name: le.name,
            identity: le.identity,
            log: options.log,
            now: this.#now,
          });
  }

  async start(): Promise<void> {
    this.#leader?.start();
    const synced = Promise.all(Object.values(this.#informers).map((i) => i.start()));
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.#o.syncTimeoutMs ?? 30_000;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const late = await Promise.race([synced.then(() => false), timedOut]);
    clearTimeout(timer);
    this.#rebuild();
    if (late) this.#o.log.warn({ reason: this.readiness().reason }, `informers not synced after ${timeoutMs}ms; serving, not ready`);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#rebuildTimer);
    await Promise.all([...Object.values(this.#informers).map((i) => i.stop()), this.#leader?.stop()]);
  }

  view(): ClusterView {
    return this.#view;
  }

  informerHealth(): InformerHealth[] {
    return Object.values(this.#informers).map((i) => i.health());
  }

  readiness(): Readiness {
    const now = this.#now();
    // An informer that is failing explains more than one that is merely slow: report it first.
    const health = this.informerHealth().sort((a, b) => Number(b.lastError !== undefined) - Number(a.lastError !== undefined));
    for (const h of health) {
      const why = h.lastError !== undefined ? `: ${h.lastError}` : '';
      if (!h.synced) return { ready: false, reason: `waiting for the first list of ${h.name}${why}` };
      const age = now - h.lastContact;
      if (age > this.#staleAfterMs) return { ready: false, reason: `${h.name} cache is stale (no event or reconnect for ${Math.round(age / 1000)}s)${why}` };
    }
    return { ready: true };
  }

  onChange(listener: (view: ClusterView) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** True when this replica may write (holds the Lease, or runs without leader election). */
  isLeader(): boolean {
    return this.#leader?.isLeader() ?? true;
  }

  /**
   * Merge-patches an AgentPool's status subresource (for the autoscaling actuator and status writers).
   * Callers that must not race other replicas check isLeader() first.
   */
  patchPoolStatus(namespace: string, name: string, status: Partial<AgentPoolStatus>): Promise<void> {
    return this.#patchStatus('AgentPool', 'agentpools', namespace, name, status);
  }

  /** Merge-patches a Model's status subresource (the model status controller; leader only, as for pools). */
  patchModelStatus(namespace: string, name: string, status: Partial<NonNullable<Model['status']>>): Promise<void> {
    return this.#patchStatus('Model', 'models', namespace, name, status);
  }

  async #patchStatus(kind: string, plural: string, namespace: string, name: string, status: object): Promise<void> {
    try {
      await this.#custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural, name, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (e: unknown) {
      throw new Error(`patching status of ${kind} ${namespace}/${name} failed: ${apiErrorText(e)}`, { cause: e });
    }
  }

  /** Merge-patches `spec.replicas` through the scale subresource, as HPA writes a Deployment's scale. */
  async scalePool(namespace: string, name: string, replicas: number): Promise<void> {
    try {
      await this.#custom.patchNamespacedCustomObjectScale(
        { group: GROUP, version: VERSION, namespace, plural: 'agentpools', name, body: { spec: { replicas } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (e: unknown) {
      throw new Error(`scaling AgentPool ${namespace}/${name} to ${replicas} failed: ${apiErrorText(e)}`, { cause: e });
    }
  }

  async bind(b: PodBinding): Promise<void> {
    const key = `${b.podNamespace}/${b.podName}`;
    const uid = b.podUid === '' ? undefined : b.podUid;
    if (this.#assumed.nodeOf(key, uid) === b.node) return;
    const known = this.#findPod(b);
    if (known?.spec?.nodeName === b.node && (uid === undefined || known.metadata.uid === uid)) return;
    try {
      await this.#core.createNamespacedPodBinding({
        name: b.podName,
        namespace: b.podNamespace,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: b.podName, namespace: b.podNamespace, ...(uid !== undefined ? { uid } : {}) },
          target: { apiVersion: 'v1', kind: 'Node', name: b.node },
        },
      });
    } catch (e: unknown) {
      // A retried bind whose first attempt landed: the pod is already where we were asked to put it.
      const current = apiErrorCode(e) === 409 ? await this.#getPod(b).catch(() => undefined) : undefined;
      if (current === undefined || current.spec?.nodeName !== b.node || (uid !== undefined && current.metadata.uid !== uid)) {
        throw new BindError(apiErrorText(e), { cause: e });
      }
    }
    const pod = known ??
      (await this.#getPod(b).catch(() => undefined)) ?? { metadata: { name: b.podName, namespace: b.podNamespace, ...(uid !== undefined ? { uid } : {}) } };
    this.#assumed.assume(pod, b.node);
    this.#changed.pods.set(podKeyOf(pod), pod);
    // Each picture reconciles every assumed pod; this one makes a picture once the TTL has passed.
    setTimeout(() => this.#scheduleRebuild(), this.#assumeTtlMs + 10).unref();
    // GPU accounting must see the pod before the scheduler's next call, not after the coalescing window.
    this.#rebuild();
  }

  #getPod(b: PodBinding): Promise<Pod> {
    return getJson<Pod>(this.#o.kubeConfig, `/api/v1/namespaces/${encodeURIComponent(b.podNamespace)}/pods/${encodeURIComponent(b.podName)}`);
  }

  #findPod(b: PodBinding): Pod | undefined {
    const i = this.#informers;
    return (i.boundPods.get(b.podName, b.podNamespace) ?? i.poolPods.get(b.podName, b.podNamespace)) as Pod | undefined;
  }

  #note(kind: ListedKind | 'pods', object: KubernetesObject | undefined): void {
    const changed = this.#changed;
    if (object === undefined) changed.everything = true;
    else if (kind === 'pods') {
      const pod = object as unknown as Pod;
      changed.pods.set(podKeyOf(pod), pod);
    } else changed.kinds.add(kind);
    this.#scheduleRebuild();
  }

  #scheduleRebuild(): void {
    if (this.#rebuildTimer !== undefined || this.#closed) return;
    this.#rebuildTimer = setTimeout(() => this.#rebuild(), this.#o.rebuildDelayMs ?? 50);
    this.#rebuildTimer.unref();
  }

  #valid<T>(
    kind: string,
    validator: { Check(v: unknown): v is T; Errors(v: unknown): Iterable<{ instancePath: string; message: string }> },
    objects: readonly KubernetesObject[],
  ): T[] {
    return objects.filter((o): o is KubernetesObject & T => {
      if (validator.Check(o)) return true;
      const id = `${o.metadata?.uid ?? ''}@${o.metadata?.resourceVersion ?? ''}`;
      if (!this.#invalidSeen.has(id)) {
        this.#invalidSeen.add(id);
        const first = [...validator.Errors(o)][0];
        this.#o.log.warn(
          { kind, object: `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, error: `${first?.instancePath ?? ''} ${first?.message ?? ''}` },
          'ignoring an invalid custom resource',
        );
      }
      return false;
    });
  }

  /**
   * A new picture: the last one with what changed since, or made afresh after a list. Under a busy
   * scheduler there is one per bind and per burst of pod events, most changing a pod or two; made
   * afresh, each re-listed and re-indexed every node and pod of the cluster.
   */
  #rebuild(): void {
    clearTimeout(this.#rebuildTimer);
    this.#rebuildTimer = undefined;
    if (this.#closed) return;
    const changed = this.#changed;
    this.#changed = nothingChanged();
    const i = this.#informers;
    const informerPod = (pod: Pod): Pod | undefined =>
      (i.boundPods.get(pod.metadata.name ?? '', pod.metadata.namespace) ?? i.poolPods.get(pod.metadata.name ?? '', pod.metadata.namespace)) as Pod | undefined;
    // A pod assumed before may be confirmed, contradicted or expired now: it may change either way.
    for (const pod of this.#assumed.pods()) {
      const key = podKeyOf(pod);
      if (!changed.pods.has(key)) changed.pods.set(key, pod);
    }
    const assumed = new Map(this.#assumed.reconcile(informerPod).map((pod) => [podKeyOf(pod), pod]));
    /** A pod as the picture shows it: assumed on its node until confirmed, else as bound, else as pending. */
    const shown = (key: string, pod: Pod): Pod | undefined => assumed.get(key) ?? informerPod(pod);
    const nodes = (): Node[] => i.nodes.list() as unknown as Node[];
    const agentPools = (): AgentPool[] => this.#valid('AgentPool', validators.agentPool, i.agentPools.list());
    const agentClasses = (): AgentClass[] => this.#valid('AgentClass', validators.agentClass, i.agentClasses.list());
    const models = (): Model[] => this.#valid('Model', validators.model, i.models.list());
    if (changed.everything) {
      const pods = new Map<string, Pod>();
      for (const pod of [...(i.poolPods.list() as unknown as Pod[]), ...(i.boundPods.list() as unknown as Pod[]), ...assumed.values()]) {
        const key = podKeyOf(pod);
        if (!pods.has(key)) pods.set(key, shown(key, pod) as Pod);
      }
      this.#view = new ClusterState(
        { nodes: nodes(), pods: [...pods.values()], agentPools: agentPools(), agentClasses: agentClasses(), models: models() },
        ++this.#version,
        this.#view,
      );
    } else {
      const pods = new Map<string, Pod | undefined>();
      for (const [key, pod] of changed.pods) pods.set(key, shown(key, pod));
      const listed = changed.kinds;
      this.#view = this.#view.next(++this.#version, {
        pods,
        ...(listed.has('nodes') ? { nodes: nodes() } : {}),
        ...(listed.has('agentPools') ? { agentPools: agentPools() } : {}),
        ...(listed.has('agentClasses') ? { agentClasses: agentClasses() } : {}),
        ...(listed.has('models') ? { models: models() } : {}),
      });
    }
    for (const listener of this.#listeners) listener(this.#view);
  }
}
