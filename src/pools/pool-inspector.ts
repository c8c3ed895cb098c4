/**
 * One look at a pool: its pods (from the cluster view), its scale target (read live from the API
 * server: scale, pod template, pods its selector matches) and the autoscaler's decision. The pool
 * controller acts on it; GET /pools/…/why explains it. Reads only: any replica may inspect.
 */
import type { AgentPool } from '../api/neuronetes.ts';
import type { AutoscalerService } from '../autoscaling/autoscaler-service.ts';
import type { Decision } from '../autoscaling/decision.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import { Labels } from '../api/neuronetes.ts';
import type { DecisionObservation, PoolInspection, TargetObservation } from './pool-conditions.ts';
import { poolPods } from './pool-pods.ts';
import { servingReplicas, warmReplicas } from './prewarm.ts';
import { ScaleTargetError, type ScaleTargetApi } from './scale-target.ts';

/** How many pods outside the pool a selector check lists: enough to name a few. */
const FOREIGN_POD_SAMPLE = 5;

export interface PoolInspectorOptions {
  readonly view: () => ClusterView;
  /** Absent without an API server (--cluster snapshot): targets are then not observed. */
  readonly targets: ScaleTargetApi | undefined;
  readonly autoscaler: Pick<AutoscalerService, 'decide'>;
}

export class PoolInspector {
  readonly #o: PoolInspectorOptions;

  constructor(options: PoolInspectorOptions) {
    this.#o = options;
  }

  get canObserveTargets(): boolean {
    return this.#o.targets !== undefined;
  }

  async observeTarget(pool: AgentPool): Promise<TargetObservation> {
    const ref = pool.spec.scaleTargetRef;
    if (ref === undefined) return { ok: false, reason: 'NoScaleTarget', message: 'spec.scaleTargetRef is not set: nothing turns spec.replicas into pods' };
    const targets = this.#o.targets;
    if (targets === undefined) return { ok: false, reason: 'NotObserved', message: 'no API server to read the target from (--cluster snapshot)' };
    const namespace = pool.metadata.namespace ?? 'default';
    try {
      const scale = await targets.getScale(namespace, ref);
      const [template, foreign] = await Promise.all([
        targets.podTemplateLabels(namespace, ref),
        scale.selector !== undefined && scale.selector !== '' ? targets.foreignPods(namespace, scale.selector, pool.metadata.name, FOREIGN_POD_SAMPLE) : [],
      ]);
      const templateLabelled = template === undefined ? undefined : template[Labels.agentPool] === pool.metadata.name;
      return { ok: true, scale, templateLabelled, foreign };
    } catch (e: unknown) {
      if (e instanceof ScaleTargetError) return { ok: false, reason: e.reason, message: e.message };
      return { ok: false, reason: 'FailedGetScale', message: e instanceof Error ? e.message : String(e) };
    }
  }

  /** The autoscaler's view of the pool: `decision` when one was just made, else a dry run now. */
  async observeAutoscaler(pool: AgentPool, decision?: Decision): Promise<DecisionObservation> {
    if (decision !== undefined) return { decision };
    try {
      return {
        decision: await this.#o.autoscaler.decide({ pool: { namespace: pool.metadata.namespace ?? 'default', name: pool.metadata.name }, dryRun: true }),
      };
    } catch (e: unknown) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }

  async inspect(pool: AgentPool, known: { target?: TargetObservation; autoscaler?: DecisionObservation } = {}): Promise<PoolInspection> {
    const [target, autoscaler] = await Promise.all([known.target ?? this.observeTarget(pool), known.autoscaler ?? this.observeAutoscaler(pool)]);
    return { pool, desired: servingReplicas(pool), warm: warmReplicas(pool), pods: poolPods(this.#o.view(), pool), target, autoscaler };
  }
}
