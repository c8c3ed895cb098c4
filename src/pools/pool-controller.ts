/**
 * The leader's pool controller: for every AgentPool with a `scaleTargetRef` it scales the target to
 * the pool's `spec.replicas` (whoever set it: the actuator, KEDA, `kubectl scale`) plus its warm
 * headroom (`spec.prewarmPercent`, see prewarm.ts) through the target's scale subresource, and
 * keeps the pool's status — replicas, readyReplicas, prewarmedReplicas, selector, conditions — and
 * Events current, as HPA's controller does for its target and a ReplicaSet's for its pods. Full
 * syncs (target read, autoscaler consulted) run every interval and when a pool's spec changes; pod
 * changes only recount (no API reads). A pool that fails is logged and shown on it; the others go
 * on. Followers write nothing.
 */
import type { Logger } from 'pino';
import type { AgentPool, Condition } from '../api/neuronetes.ts';
import type { Decision } from '../autoscaling/decision.ts';
import type { ClusterSource } from '../cluster/cluster-source.ts';
import { PeriodicReconciler } from '../cluster/periodic-reconciler.ts';
import { conditionEvents, poolConditions, type DecisionObservation, type PoolInspection, type TargetObservation } from './pool-conditions.ts';
import type { PoolEvent, PoolEventSink } from './pool-events.ts';
import type { PoolInspector } from './pool-inspector.ts';
import { warmSplit } from './prewarm.ts';
import { ScaleTargetError, type ScaleTargetApi } from './scale-target.ts';

export type PoolSource = Pick<ClusterSource, 'view' | 'isLeader' | 'onChange'> & Required<Pick<ClusterSource, 'patchPoolStatus'>>;

export function isPoolSource(source: ClusterSource): source is ClusterSource & PoolSource {
  return source.patchPoolStatus !== undefined;
}

export interface PoolControllerOptions {
  readonly cluster: PoolSource;
  readonly inspector: PoolInspector;
  readonly targets: Pick<ScaleTargetApi, 'setReplicas'>;
  readonly events: PoolEventSink;
  /** Full syncs of every pool this often. */
  readonly intervalMs: number;
  /** Pod changes are recounted after this quiet time (default 250 ms). */
  readonly recountDelayMs?: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export type PoolSyncResult = 'scaled' | 'unchanged' | 'failed';

interface Synced {
  /** The pool spec the target was last read for: another one needs a full sync. */
  readonly spec: string;
  target: TargetObservation;
  autoscaler: DecisionObservation;
}

type PoolStatus = NonNullable<AgentPool['status']>;

const poolKey = (pool: AgentPool): string => `${pool.metadata.namespace ?? 'default'}/${pool.metadata.name}`;
const specKey = (pool: AgentPool): string =>
  JSON.stringify([pool.metadata.uid, pool.spec.replicas, pool.spec.minReplicas, pool.spec.maxReplicas, pool.spec.prewarmPercent, pool.spec.scaleTargetRef]);
const sameConditions = (a: readonly Condition[], b: readonly Condition[]): boolean =>
  a.length === b.length && a.every((c, i) => c.type === b[i]?.type && c.status === b[i].status && c.reason === b[i].reason && c.message === b[i].message);

export class PoolController {
  readonly #o: PoolControllerOptions;
  readonly #now: () => number;
  readonly #synced = new Map<string, Synced>();
  readonly #decisions = new Map<string, Decision>();
  readonly #schedule: PeriodicReconciler;

  constructor(options: PoolControllerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#schedule = new PeriodicReconciler({
      source: options.cluster,
      log: options.log,
      intervalMs: options.intervalMs,
      changeDelayMs: options.recountDelayMs ?? 250,
      // Changes only recount pods; the interval reads every target.
      reconcile: (trigger) => this.runOnce(trigger === 'interval'),
    });
  }

  /** The actuator's decisions stand in for a dry run on the next sync of that pool. */
  observeDecision(decision: Decision): void {
    this.#decisions.set(`${decision.pool.namespace}/${decision.pool.name}`, decision);
  }

  start(): void {
    this.#schedule.start();
  }

  /** Stops both schedules and waits for a round in flight: nothing writes after close. */
  close(): Promise<void> {
    return this.#schedule.close();
  }

  /**
   * One round over the pools with a target; empty when this replica does not lead. `full: false`
   * recounts pods against the last target read, except for pools new or changed since. For tests.
   */
  async runOnce(full = true): Promise<Map<string, PoolSyncResult>> {
    const results = new Map<string, PoolSyncResult>();
    const pools = this.#o.cluster.view().pools();
    const live = new Set(pools.map(poolKey));
    for (const memo of [this.#synced, this.#decisions]) for (const key of memo.keys()) if (!live.has(key)) memo.delete(key);
    for (const pool of pools) {
      if (pool.spec.scaleTargetRef === undefined) continue;
      // Leadership can end mid-round: ask before each pool, not once.
      if (this.#schedule.closed || !(this.#o.cluster.isLeader?.() ?? true)) break;
      const key = poolKey(pool);
      const result = await this.#sync(pool, key, full).catch((e: unknown): PoolSyncResult => {
        this.#o.log.warn({ pool: key, err: e instanceof Error ? e.message : String(e) }, 'pools: could not sync the pool');
        return 'failed';
      });
      results.set(key, result);
    }
    return results;
  }

  async #sync(pool: AgentPool, key: string, full: boolean): Promise<PoolSyncResult> {
    const { inspector } = this.#o;
    let synced = this.#synced.get(key);
    if (full || synced === undefined || synced.spec !== specKey(pool)) {
      const decision = this.#decisions.get(key);
      this.#decisions.delete(key);
      const [target, autoscaler] = await Promise.all([inspector.observeTarget(pool), inspector.observeAutoscaler(pool, decision)]);
      synced = { spec: specKey(pool), target, autoscaler };
      this.#synced.set(key, synced);
    }
    let inspection = await inspector.inspect(pool, synced);
    const events: PoolEvent[] = [];
    const scaled = await this.#scale(inspection, events);
    if (scaled !== undefined) {
      synced.target = scaled;
      inspection = { ...inspection, target: scaled };
    }
    const previous = pool.status?.conditions ?? [];
    const conditions = poolConditions(inspection, previous, new Date(this.#now()).toISOString());
    const status: Partial<PoolStatus> = {
      replicas: inspection.pods.replicas,
      readyReplicas: inspection.pods.readyReplicas,
      prewarmedReplicas: inspection.pods.prewarmedReplicas,
      selector: inspection.pods.selector,
      conditions,
    };
    const current = pool.status ?? {};
    if (
      current.replicas !== status.replicas ||
      current.readyReplicas !== status.readyReplicas ||
      current.prewarmedReplicas !== status.prewarmedReplicas ||
      current.selector !== status.selector ||
      !sameConditions(previous, conditions)
    ) {
      await this.#o.cluster.patchPoolStatus(pool.metadata.namespace ?? 'default', pool.metadata.name, status);
    }
    events.push(...conditionEvents(previous, conditions));
    for (const event of events) await this.#o.events.record(pool, event);
    if (scaled !== undefined) return scaled.ok ? 'scaled' : 'failed';
    return inspection.target.ok ? 'unchanged' : 'failed';
  }

  /** Scales the target when it is off the pool's count (serving + warm) and nothing forbids it; the new observation, if it acted. */
  async #scale(i: PoolInspection, events: PoolEvent[]): Promise<TargetObservation | undefined> {
    const { target, pool } = i;
    const to = i.desired + i.warm;
    if (!target.ok || target.scale.specReplicas === to || target.foreign.some((p) => p.pool !== undefined)) return undefined;
    const ref = pool.spec.scaleTargetRef;
    if (ref === undefined) return undefined;
    const from = target.scale.specReplicas;
    try {
      await this.#o.targets.setReplicas(pool.metadata.namespace ?? 'default', ref, to);
    } catch (e: unknown) {
      return e instanceof ScaleTargetError ? { ok: false, reason: e.reason, message: e.message } : { ok: false, reason: 'FailedRescale', message: String(e) };
    }
    const decision = 'decision' in i.autoscaler && i.autoscaler.decision.desiredReplicas === i.desired ? i.autoscaler.decision : undefined;
    const why = decision !== undefined ? `: ${decision.reason}, ${decision.message}` : '';
    events.push({ type: 'Normal', reason: 'Rescaled', message: `${ref.kind} ${ref.name}: ${from} → ${to} replicas${warmSplit(i.desired, i.warm)}${why}` });
    this.#o.log.info({ pool: poolKey(pool), target: `${ref.kind}/${ref.name}`, from, to, warm: i.warm }, 'pools: scaled the target');
    return { ...target, scale: { ...target.scale, specReplicas: to } };
  }
}
