/**
 * The scale target of a pool (`spec.scaleTargetRef`, as HPA's and KEDA's): any namespaced object with
 * a `scale` subresource, found through API discovery and read and written through that subresource,
 * as HPA's scale client does. Every failure is a ScaleTargetError whose `reason` says which kind of
 * wrong input or cluster state it is, so the pool's conditions and events can name it.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { Labels, type ScaleTargetRef } from '../api/neuronetes.ts';
import { apiErrorCode, apiErrorText, getJson } from '../cluster/kube-api.ts';

export type ScaleTargetProblem = 'KindNotFound' | 'NoScaleSubresource' | 'TargetNotFound' | 'Forbidden' | 'FailedGetScale' | 'FailedRescale';

export class ScaleTargetError extends Error {
  readonly reason: ScaleTargetProblem;
  constructor(reason: ScaleTargetProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScaleTargetError';
    this.reason = reason;
  }
}

/** What the target's scale subresource (autoscaling/v1 Scale) says. */
export interface TargetScale {
  readonly specReplicas: number;
  readonly statusReplicas: number;
  /** The target's pod selector in string form (`app=agent`), when it publishes one. */
  readonly selector: string | undefined;
}

/** A pod that the target's selector matches but that is not labelled for this pool. */
export interface ForeignPod {
  readonly name: string;
  /** The pool it is labelled for; undefined when it carries no pool label. */
  readonly pool: string | undefined;
}

/** What the pool controller and GET /pools/…/why need of the cluster about a target. */
export interface ScaleTargetApi {
  getScale(namespace: string, ref: ScaleTargetRef): Promise<TargetScale>;
  setReplicas(namespace: string, ref: ScaleTargetRef, replicas: number): Promise<void>;
  /** The labels of the target's pod template; undefined when the kind has no template we know of. */
  podTemplateLabels(namespace: string, ref: ScaleTargetRef): Promise<Record<string, string> | undefined>;
  /** Up to `limit` live pods matched by `selector` that are not labelled for `pool`. */
  foreignPods(namespace: string, selector: string, pool: string, limit: number): Promise<ForeignPod[]>;
}

const Scale = Type.Object({
  spec: Type.Optional(Type.Object({ replicas: Type.Optional(Type.Integer()) })),
  status: Type.Optional(Type.Object({ replicas: Type.Optional(Type.Integer()), selector: Type.Optional(Type.String()) })),
});
const checkScale = Compile(Scale);

const APIResourceList = Type.Object({ resources: Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), namespaced: Type.Boolean() })) });
type APIResourceList = Static<typeof APIResourceList>;
const checkResources = Compile(APIResourceList);

/** Where pod templates live in the kinds people scale agents with. */
const TEMPLATE_PATHS: readonly (readonly string[])[] = [
  ['spec', 'template'], // Deployment, StatefulSet, ReplicaSet, Argo Rollout
  ['spec', 'leaderWorkerTemplate', 'workerTemplate'], // LeaderWorkerSet
];

const DISCOVERY_TTL_MS = 60_000;
const GROUP_VERSION = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/v[0-9]+((alpha|beta)[0-9]+)?$/;

interface Resolved {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

const describe = (namespace: string, ref: ScaleTargetRef): string => `${ref.kind} ${namespace}/${ref.name} (${ref.apiVersion})`;

function field(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

export class KubernetesScaleTargets implements ScaleTargetApi {
  readonly #kc: KubeConfig;
  readonly #custom: CustomObjectsApi;
  readonly #now: () => number;
  /** Discovery per group/version, refreshed after a minute (CRDs come and go). */
  readonly #discovery = new Map<string, { at: number; list: APIResourceList | undefined }>();

  constructor(kubeConfig: KubeConfig, now: () => number = Date.now) {
    this.#kc = kubeConfig;
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#now = now;
  }

  async #resources(apiVersion: string): Promise<APIResourceList | undefined> {
    const cached = this.#discovery.get(apiVersion);
    if (cached !== undefined && this.#now() - cached.at < DISCOVERY_TTL_MS) return cached.list;
    let list: APIResourceList | undefined;
    try {
      const body = await getJson<unknown>(this.#kc, `/apis/${apiVersion}`);
      list = checkResources.Check(body) ? body : undefined;
    } catch (e: unknown) {
      if (apiErrorCode(e) !== 404) throw new ScaleTargetError('FailedGetScale', `discovery of ${apiVersion} failed: ${apiErrorText(e)}`, { cause: e });
    }
    this.#discovery.set(apiVersion, { at: this.#now(), list });
    return list;
  }

  async #resolve(ref: ScaleTargetRef): Promise<Resolved> {
    // It becomes a URL path: only a DNS group name and a version, nothing that could walk elsewhere.
    if (!GROUP_VERSION.test(ref.apiVersion))
      throw new ScaleTargetError('KindNotFound', `scaleTargetRef.apiVersion ${JSON.stringify(ref.apiVersion)} is not <group>/<version> (apps/v1, …)`);
    const slash = ref.apiVersion.indexOf('/');
    const list = await this.#resources(ref.apiVersion);
    if (list === undefined) throw new ScaleTargetError('KindNotFound', `the API server serves no ${ref.apiVersion}`);
    const resource = list.resources.find((r) => r.kind === ref.kind && !r.name.includes('/'));
    if (resource === undefined) throw new ScaleTargetError('KindNotFound', `${ref.apiVersion} has no kind ${ref.kind}`);
    if (!resource.namespaced)
      throw new ScaleTargetError('KindNotFound', `${ref.kind} (${ref.apiVersion}) is cluster-scoped; a pool scales objects in its own namespace`);
    if (!list.resources.some((r) => r.name === `${resource.name}/scale`)) {
      throw new ScaleTargetError('NoScaleSubresource', `${ref.kind} (${ref.apiVersion}) has no scale subresource: it cannot be scaled`);
    }
    return { group: ref.apiVersion.slice(0, slash), version: ref.apiVersion.slice(slash + 1), plural: resource.name };
  }

  #failure(e: unknown, namespace: string, ref: ScaleTargetRef, otherwise: ScaleTargetProblem, doing: string): ScaleTargetError {
    if (e instanceof ScaleTargetError) return e;
    const code = apiErrorCode(e);
    if (code === 404) return new ScaleTargetError('TargetNotFound', `${describe(namespace, ref)} does not exist`, { cause: e });
    if (code === 403) return new ScaleTargetError('Forbidden', `${doing} ${describe(namespace, ref)} is not allowed: ${apiErrorText(e)}`, { cause: e });
    return new ScaleTargetError(otherwise, `${doing} ${describe(namespace, ref)} failed: ${apiErrorText(e)}`, { cause: e });
  }

  async getScale(namespace: string, ref: ScaleTargetRef): Promise<TargetScale> {
    try {
      const { group, version, plural } = await this.#resolve(ref);
      const scale: unknown = await this.#custom.getNamespacedCustomObjectScale({ group, version, namespace, plural, name: ref.name });
      if (!checkScale.Check(scale)) throw new ScaleTargetError('FailedGetScale', `the scale of ${describe(namespace, ref)} is not an autoscaling/v1 Scale`);
      return { specReplicas: scale.spec?.replicas ?? 0, statusReplicas: scale.status?.replicas ?? 0, selector: scale.status?.selector };
    } catch (e: unknown) {
      throw this.#failure(e, namespace, ref, 'FailedGetScale', 'reading the scale of');
    }
  }

  async setReplicas(namespace: string, ref: ScaleTargetRef, replicas: number): Promise<void> {
    try {
      const { group, version, plural } = await this.#resolve(ref);
      await this.#custom.patchNamespacedCustomObjectScale(
        { group, version, namespace, plural, name: ref.name, body: { spec: { replicas } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (e: unknown) {
      throw this.#failure(e, namespace, ref, 'FailedRescale', `scaling to ${replicas}`);
    }
  }

  async podTemplateLabels(namespace: string, ref: ScaleTargetRef): Promise<Record<string, string> | undefined> {
    const { group, version, plural } = await this.#resolve(ref);
    let target: unknown;
    try {
      target = await this.#custom.getNamespacedCustomObject({ group, version, namespace, plural, name: ref.name });
    } catch (e: unknown) {
      // Reading the whole object is granted for the kinds the manifests know; others skip this check.
      if (apiErrorCode(e) === 403) return undefined;
      throw this.#failure(e, namespace, ref, 'FailedGetScale', 'reading');
    }
    for (const path of TEMPLATE_PATHS) {
      const template = field(target, path);
      if (typeof template !== 'object' || template === null) continue;
      const labels = field(template, ['metadata', 'labels']);
      return typeof labels === 'object' && labels !== null ? (labels as Record<string, string>) : {};
    }
    return undefined;
  }

  async foreignPods(namespace: string, selector: string, pool: string, limit: number): Promise<ForeignPod[]> {
    const list = await getJson<{ items?: { metadata?: { name?: string; labels?: Record<string, string> } }[] }>(
      this.#kc,
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      {
        labelSelector: `${selector},${Labels.agentPool}!=${pool}`,
        fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
        limit: String(limit),
      },
    );
    return (list.items ?? []).map((p) => ({ name: p.metadata?.name ?? '', pool: p.metadata?.labels?.[Labels.agentPool] }));
  }
}
