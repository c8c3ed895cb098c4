/**
 * The optional actuator (`serve --actuate`): every interval the leader decides for each AgentPool,
 * exactly as GET /autoscaler/pools does, writes a changed count to the pool's scale subresource and
 * records `status.currentMetrics` / `status.lastScaleTime`, as HPA does for its target. A pool that
 * fails is logged and counted; the others go on. Followers decide nothing here: one writer.
 */
import type { Logger } from 'pino';
import type { AgentPool } from '../api/neuronetes.ts';
import type { ClusterSource } from '../cluster/cluster-source.ts';
import type { ServiceMetrics } from '../observability/metrics.ts';
import type { AutoscalerService } from './autoscaler-service.ts';
import type { Decision } from './decision.ts';

/** What the actuator needs of a cluster source: leadership and the two writes. */
export type ScalingSource = Pick<ClusterSource, 'view' | 'isLeader'> & Required<Pick<ClusterSource, 'scalePool' | 'patchPoolStatus'>>;

export function isScalingSource(source: ClusterSource): source is ClusterSource & ScalingSource {
  return source.scalePool !== undefined && source.patchPoolStatus !== undefined;
}

export interface ActuatorOptions {
  readonly autoscaler: AutoscalerService;
  readonly cluster: ScalingSource;
  readonly intervalMs: number;
  readonly log: Logger;
  readonly metrics: ServiceMetrics;
  /** Told every decision the actuator made (the pool controller reports it on the pool). */
  readonly onDecision?: (decision: Decision) => void;
}

export type ActuationResult = 'scaled' | 'unchanged' | 'failed';

type PoolStatus = NonNullable<AgentPool['status']>;

function currentMetrics(decision: Decision): NonNullable<PoolStatus['currentMetrics']> {
  return decision.metrics.filter((m) => m.value !== null).map((m) => ({ type: m.type, current: String(m.value), target: m.target, timestamp: decision.time }));
}

export class Actuator {
  readonly #o: ActuatorOptions;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<unknown> = Promise.resolve();
  #stopped = true;
  #closed = false;

  constructor(options: ActuatorOptions) {
    this.#o = options;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = (): void => {
      this.#round = this.runOnce().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.intervalMs).unref();
      });
    };
    this.#timer = setTimeout(tick, this.#o.intervalMs).unref();
  }

  /** Stops the schedule and waits for a round in flight, so nothing writes after close. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  /** One round over every pool; empty when this replica does not lead. Exposed for tests. */
  async runOnce(): Promise<Map<string, ActuationResult>> {
    const results = new Map<string, ActuationResult>();
    for (const pool of this.#o.cluster.view().pools()) {
      // Leadership can end mid-round: ask before each pool, not once.
      if (this.#closed || !(this.#o.cluster.isLeader?.() ?? true)) break;
      const namespace = pool.metadata.namespace ?? 'default';
      const key = `${namespace}/${pool.metadata.name}`;
      const result = await this.#actuate(pool, namespace).catch((e: unknown): ActuationResult => {
        this.#o.log.warn({ pool: key, err: (e as Error).message }, 'actuator: could not scale the pool');
        return 'failed';
      });
      this.#o.metrics.autoscalerActuations.inc({ pool: key, result });
      results.set(key, result);
    }
    return results;
  }

  async #actuate(pool: AgentPool, namespace: string): Promise<ActuationResult> {
    const { name } = pool.metadata;
    const decision = await this.#o.autoscaler.decide({ pool: { namespace, name } });
    this.#o.onDecision?.(decision);
    // Against spec.replicas (the scale subresource), as HPA does: status lags while pods start, and
    // rewriting the same count every round would also reset lastScaleTime.
    const scaled = decision.desiredReplicas !== (pool.spec.replicas ?? decision.currentReplicas);
    if (scaled) {
      await this.#o.cluster.scalePool(namespace, name, decision.desiredReplicas);
      this.#o.log.info({ pool: `${namespace}/${name}`, from: pool.spec.replicas, to: decision.desiredReplicas, reason: decision.reason }, 'actuator: scaled');
    }
    await this.#o.cluster.patchPoolStatus(namespace, name, { currentMetrics: currentMetrics(decision), ...(scaled ? { lastScaleTime: decision.time } : {}) });
    return scaled ? 'scaled' : 'unchanged';
  }
}
