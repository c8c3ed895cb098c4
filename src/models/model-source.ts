/**
 * The node agent's cluster source under `--cluster kubernetes`: Models only, listed and watched from
 * the API server. The agent needs nothing else of the cluster (its Node it merge-patches without
 * reading), so it caches nothing else and its RBAC grants nothing else (manifests/rbac-agent.yaml).
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Compile } from 'typebox/compile';
import { GROUP, Model, VERSION } from '../api/neuronetes.ts';
import { BindError, type ClusterSource, type Readiness } from '../cluster/cluster-source.ts';
import { ClusterState, type ClusterView } from '../cluster/cluster-view.ts';
import { listAll } from '../cluster/kube-api.ts';
import { SupervisedInformer } from '../cluster/supervised-informer.ts';

const MODELS_PATH = `/apis/${GROUP}/${VERSION}/models`;
const checkModel = Compile(Model);

export interface KubernetesModelSourceOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** /readyz turns false when the watch has had no event or reconnect for this long. */
  staleAfterMs: number;
  /** How long start() waits for the first list (default 30s). */
  syncTimeoutMs?: number;
  now?: () => number;
}

export class KubernetesModelSource implements ClusterSource {
  readonly kind = 'kubernetes';
  readonly #o: KubernetesModelSourceOptions;
  readonly #now: () => number;
  readonly #informer: SupervisedInformer<KubernetesObject>;
  readonly #listeners = new Set<(view: ClusterView) => void>();
  /** Models that failed schema validation, by uid@resourceVersion, so each is logged once. */
  readonly #invalidSeen = new Set<string>();
  #view = new ClusterState({ nodes: [], pods: [], agentPools: [], agentClasses: [], models: [] }, 0);

  constructor(options: KubernetesModelSourceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    const kc = options.kubeConfig;
    this.#informer = new SupervisedInformer({
      name: 'models',
      kubeConfig: kc,
      path: MODELS_PATH,
      list: () => listAll(kc, MODELS_PATH),
      onChange: () => this.#rebuild(),
      log: options.log,
      backoff: { initialMs: 500, maxMs: 30_000 },
      silentAfterMs: options.staleAfterMs,
      now: this.#now,
    });
  }

  /**
   * Resolves once Models have been listed, or after `syncTimeoutMs` (the informer keeps retrying;
   * the agent serves, not ready, and /readyz says why: a 403 names the missing grant).
   */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.#o.syncTimeoutMs ?? 30_000;
    const late = await Promise.race([
      this.#informer.start().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.#rebuild();
    if (late) this.#o.log.warn({ reason: this.readiness().reason }, `models not listed after ${timeoutMs}ms; serving, not ready`);
  }

  async close(): Promise<void> {
    await this.#informer.stop();
  }

  view(): ClusterView {
    return this.#view;
  }

  readiness(): Readiness {
    const h = this.#informer.health();
    const why = h.lastError !== undefined ? `: ${h.lastError}` : '';
    if (!h.synced) return { ready: false, reason: `waiting for the first list of models${why}` };
    const age = this.#now() - h.lastContact;
    if (age > this.#o.staleAfterMs) return { ready: false, reason: `models cache is stale (no event or reconnect for ${Math.round(age / 1000)}s)${why}` };
    return { ready: true };
  }

  bind(): Promise<void> {
    return Promise.reject(new BindError('the node agent binds no pods; kube-scheduler binds through `neuronetes serve`'));
  }

  onChange(listener: (view: ClusterView) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #rebuild(): void {
    const models = this.#informer.list().filter((o): o is KubernetesObject & Model => {
      if (checkModel.Check(o)) return true;
      const id = `${o.metadata?.uid ?? ''}@${o.metadata?.resourceVersion ?? ''}`;
      if (!this.#invalidSeen.has(id)) {
        this.#invalidSeen.add(id);
        const first = [...checkModel.Errors(o)][0];
        this.#o.log.warn(
          { kind: 'Model', object: `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, error: `${first?.instancePath ?? ''} ${first?.message ?? ''}` },
          'ignoring an invalid Model',
        );
      }
      return false;
    });
    this.#view = new ClusterState({ nodes: [], pods: [], agentPools: [], agentClasses: [], models }, this.#view.version + 1, this.#view);
    for (const listener of this.#listeners) listener(this.#view);
  }
}
