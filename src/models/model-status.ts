/**
 * The leader's model status controller: keeps every Model's `status.phase`, `status.cachedNodes` and
 * `Cached` condition current from the Nodes' `neuronetes.io/cached-models` annotations (written by
 * each node agent, read through the picture's node facts). Rounds run after cluster changes (after a
 * quiet time) and every interval; a Model's status is patched only when it changed, and a Model
 * whose patch fails is logged and retried next round while the others go on. Followers write nothing.
 *
 * The annotation lists model names, not namespaces, so Models of one name in two namespaces share
 * their nodes; it carries no time or size, so `cachedAt`, `size`, `loadTime` and `lastUsed` are left
 * unwritten rather than guessed.
 */
import type { Logger } from 'pino';
import type { Condition, Model } from '../api/neuronetes.ts';
import type { ClusterSource } from '../cluster/cluster-source.ts';
import { PeriodicReconciler } from '../cluster/periodic-reconciler.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import { plural } from '../util/plural.ts';

export type ModelStatus = NonNullable<Model['status']>;
export type ModelStatusSource = Pick<ClusterSource, 'view' | 'isLeader' | 'onChange'> & Required<Pick<ClusterSource, 'patchModelStatus'>>;

export function isModelStatusSource(source: ClusterSource): source is ClusterSource & ModelStatusSource {
  return source.patchModelStatus !== undefined;
}

/** `Cached`: at least one Node's annotation lists the model; `NotCached`: none does (it must be pulled before it serves). */
export type ModelPhase = 'Cached' | 'NotCached';

/** The status fields this controller owns; the rest of a Model's status is left as it is. */
export type ModelCacheStatus = Required<Pick<ModelStatus, 'phase' | 'cachedNodes' | 'conditions'>>;

export type ModelSyncResult = 'updated' | 'unchanged' | 'failed';

export interface ModelStatusControllerOptions {
  readonly cluster: ModelStatusSource;
  /** A round over every Model this often, whatever changed (retries failed patches). */
  readonly intervalMs: number;
  /** Cluster changes start a round after this quiet time (default 250 ms). */
  readonly changeDelayMs?: number;
  readonly log: Logger;
  readonly now?: () => number;
}

/** Node names shown in the condition's message; cachedNodes lists them all. */
const MESSAGE_NODES = 10;

/** Model name → the sorted names of the nodes whose annotation lists it. */
function nodesByModel(view: ClusterView): ReadonlyMap<string, readonly string[]> {
  const byModel = new Map<string, string[]>();
  for (const [node, facts] of view.allNodeFacts()) {
    for (const model of facts.cachedModels) {
      let nodes = byModel.get(model);
      if (nodes === undefined) byModel.set(model, (nodes = []));
      nodes.push(node);
    }
  }
  for (const nodes of byModel.values()) nodes.sort();
  return byModel;
}

function cachedCondition(nodes: readonly string[], previous: readonly Condition[], now: string): Condition {
  const shown = nodes.slice(0, MESSAGE_NODES).join(', ') + (nodes.length > MESSAGE_NODES ? ` and ${nodes.length - MESSAGE_NODES} more` : '');
  const next: Condition =
    nodes.length === 0
      ? { type: 'Cached', status: 'False', reason: 'NotCached', message: "no Node's neuronetes.io/cached-models annotation lists it" }
      : { type: 'Cached', status: 'True', reason: 'CachedOnNodes', message: `on ${plural(nodes.length, 'node')}: ${shown}` };
  const before = previous.find((c) => c.type === 'Cached');
  // As Kubernetes conditions do: the time the status last flipped, not the time of the last write.
  return { ...next, lastTransitionTime: before?.status === next.status && before.lastTransitionTime !== undefined ? before.lastTransitionTime : now };
}

/** What a Model's cache status should be, given the nodes that hold it. */
export function modelCacheStatus(model: Model, nodes: readonly string[], now: string): ModelCacheStatus {
  const previous = model.status?.conditions ?? [];
  return {
    phase: nodes.length > 0 ? 'Cached' : 'NotCached',
    cachedNodes: nodes.map((nodeName) => ({ nodeName, status: 'Cached' })),
    conditions: [...previous.filter((c) => c.type !== 'Cached'), cachedCondition(nodes, previous, now)],
  };
}

function sameStatus(current: ModelStatus | undefined, next: ModelCacheStatus): boolean {
  const conditions = current?.conditions ?? [];
  return (
    current?.phase === next.phase &&
    JSON.stringify(current.cachedNodes ?? []) === JSON.stringify(next.cachedNodes) &&
    conditions.length === next.conditions.length &&
    conditions.every((c, i) => {
      const n = next.conditions[i];
      return c.type === n?.type && c.status === n.status && c.reason === n.reason && c.message === n.message;
    })
  );
}

export class ModelStatusController {
  readonly #o: ModelStatusControllerOptions;
  readonly #now: () => number;
  readonly #schedule: PeriodicReconciler;

  constructor(options: ModelStatusControllerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#schedule = new PeriodicReconciler({
      source: options.cluster,
      log: options.log,
      intervalMs: options.intervalMs,
      changeDelayMs: options.changeDelayMs ?? 250,
      reconcile: () => this.runOnce(),
    });
  }

  start(): void {
    this.#schedule.start();
  }

  /** Stops both schedules and waits for a round in flight: nothing writes after close. */
  close(): Promise<void> {
    return this.#schedule.close();
  }

  /** One round over every Model, by `namespace/name`; empty when this replica does not lead. For tests. */
  async runOnce(): Promise<Map<string, ModelSyncResult>> {
    const results = new Map<string, ModelSyncResult>();
    const leads = (): boolean => !this.#schedule.closed && (this.#o.cluster.isLeader?.() ?? true);
    // Leadership first: a follower's statuses could never be written, so it reads and computes nothing.
    if (!leads()) return results;
    const view = this.#o.cluster.view();
    const byModel = nodesByModel(view);
    const now = new Date(this.#now()).toISOString();
    for (const model of view.models()) {
      // Leadership can end mid-round: ask again before each model.
      if (!leads()) break;
      const namespace = model.metadata.namespace ?? 'default';
      const key = `${namespace}/${model.metadata.name}`;
      const next = modelCacheStatus(model, byModel.get(model.metadata.name) ?? [], now);
      if (sameStatus(model.status, next)) {
        results.set(key, 'unchanged');
        continue;
      }
      try {
        await this.#o.cluster.patchModelStatus(namespace, model.metadata.name, next);
        this.#o.log.info({ model: key, phase: next.phase, nodes: next.cachedNodes.length }, 'models: status updated');
        results.set(key, 'updated');
      } catch (e: unknown) {
        this.#o.log.warn({ model: key, err: e instanceof Error ? e.message : String(e) }, 'models: could not update the status');
        results.set(key, 'failed');
      }
    }
    return results;
  }
}
