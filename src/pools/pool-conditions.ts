/**
 * A pool's conditions, as HPA reports its own: `Ready` (are the replicas there, and if not why),
 * `Scaling` (is the pool moving, or what held the autoscaler back), `AbleToScale` (can its target be
 * read and scaled), `MetricsAvailable` (could the autoscaler read its metrics), `CapacityLimited`
 * (could the cluster place the replicas the last scale-up asked for). Computed from one
 * inspection; a condition keeps its `lastTransitionTime` while its status does not change.
 */
import { Labels, type AgentPool, type Condition } from '../api/neuronetes.ts';
import type { Decision, StageReport } from '../autoscaling/decision.ts';
import type { PoolEvent } from './pool-events.ts';
import type { PoolPods } from './pool-pods.ts';
import { warmSplit } from './prewarm.ts';
import type { ForeignPod, ScaleTargetProblem, TargetScale } from './scale-target.ts';

export type TargetObservation =
  | { readonly ok: true; readonly scale: TargetScale; readonly templateLabelled: boolean | undefined; readonly foreign: readonly ForeignPod[] }
  | { readonly ok: false; readonly reason: ScaleTargetProblem | 'NoScaleTarget' | 'NotObserved'; readonly message: string };

/** The autoscaler's view: its decision, or why there is none. */
export type DecisionObservation = { readonly decision: Decision } | { readonly error: string };

export interface PoolInspection {
  readonly pool: AgentPool;
  /** spec.replicas, or minReplicas when unset: the serving count. */
  readonly desired: number;
  /** Warm replicas kept beyond it (spec.prewarmPercent): the target is scaled to desired + warm. */
  readonly warm: number;
  readonly pods: PoolPods;
  readonly target: TargetObservation;
  readonly autoscaler: DecisionObservation;
}

export const CONDITION_TYPES = ['Ready', 'Scaling', 'AbleToScale', 'MetricsAvailable', 'CapacityLimited'] as const;

type NewCondition = Omit<Condition, 'lastTransitionTime'> & { type: (typeof CONDITION_TYPES)[number]; status: 'True' | 'False' | 'Unknown' };

const names = (pods: readonly { name: string }[], max = 3): string =>
  pods
    .slice(0, max)
    .map((p) => p.name)
    .join(', ') + (pods.length > max ? ` and ${pods.length - max} more` : '');

/** The stage that moved the count away from what the metrics asked for, if one did. */
export function heldBack(decision: Decision): StageReport | undefined {
  const raw = decision.stages[0];
  if (raw === undefined || raw.output === decision.desiredReplicas) return undefined;
  return decision.stages.slice(1).findLast((s) => s.output !== s.input);
}

/** Pods matched by the target's selector that belong elsewhere: another pool's, or no pool's. */
export function selectorProblem(pool: AgentPool, target: TargetObservation): { reason: 'AmbiguousSelector' | 'PodsUnlabelled'; message: string } | undefined {
  if (!target.ok) return undefined;
  const label = `${Labels.agentPool}: ${pool.metadata.name}`;
  const others = target.foreign.filter((p) => p.pool !== undefined);
  if (others.length > 0) {
    const pools = [...new Set(others.map((p) => p.pool))].join(', ');
    return {
      reason: 'AmbiguousSelector',
      message: `the target's selector ${target.scale.selector ?? ''} also matches pods of pool ${pools} (${names(others)}): not scaling until the selectors are disjoint`,
    };
  }
  if (target.templateLabelled === false)
    return { reason: 'PodsUnlabelled', message: `the target's pod template has no label ${label}: its pods are neither counted nor placed as this pool's` };
  if (target.foreign.length > 0)
    return {
      reason: 'PodsUnlabelled',
      message: `pods of the target lack the label ${label} (${names(target.foreign)}): they are neither counted nor placed as this pool's`,
    };
  return undefined;
}

function ready(i: PoolInspection): NewCondition {
  const base = { type: 'Ready', status: 'False' } as const;
  if (!i.target.ok) return { ...base, reason: i.target.reason, message: i.target.message };
  const problem = selectorProblem(i.pool, i.target);
  if (problem !== undefined) return { ...base, ...problem };
  const { replicas, pending, prewarmedReplicas } = i.pods;
  // Ready is about the serving count; the warm part is reported beside it.
  const readyReplicas = i.pods.readyReplicas - prewarmedReplicas;
  const warm = i.warm > 0 ? `, ${prewarmedReplicas} of ${i.warm} warm` : '';
  if (readyReplicas >= i.desired) return { type: 'Ready', status: 'True', reason: 'ReplicasReady', message: `${readyReplicas} of ${i.desired} ready${warm}` };
  const unplaced = pending.filter((p) => p.reason !== 'NotYetScheduled');
  if (unplaced.length > 0) {
    const first = unplaced[0];
    return {
      ...base,
      reason: 'PodsUnschedulable',
      message: `${readyReplicas} of ${i.desired} ready; ${unplaced.length} cannot be placed (${names(unplaced)}): ${first?.message ?? ''}`,
    };
  }
  if (replicas < i.desired)
    return {
      ...base,
      reason: 'ReplicasMissing',
      message: `${readyReplicas} of ${i.desired} ready; ${i.desired - replicas} pods not created yet by ${i.pool.spec.scaleTargetRef?.kind ?? 'the target'}`,
    };
  return {
    ...base,
    reason: 'ReplicasNotReady',
    message: `${readyReplicas} of ${i.desired} ready; ${replicas - i.pods.readyReplicas} starting${pending.length > 0 ? `, ${pending.length} not yet scheduled` : ''}`,
  };
}

function scaling(i: PoolInspection): NewCondition {
  const { replicas } = i.pods;
  const total = i.desired + i.warm;
  const warm = warmSplit(i.desired, i.warm);
  if (replicas !== total) {
    return { type: 'Scaling', status: 'True', reason: replicas < total ? 'ScalingUp' : 'ScalingDown', message: `${replicas} → ${total} replicas${warm}` };
  }
  if ('decision' in i.autoscaler) {
    const held = heldBack(i.autoscaler.decision);
    const raw = i.autoscaler.decision.stages[0];
    const wanted = raw?.reason === 'Recommended' ? `the metrics ask for ${raw.output}, ` : '';
    if (held !== undefined)
      return {
        type: 'Scaling',
        status: 'False',
        reason: held.reason,
        message: `at ${i.desired}; ${wanted}${held.stage} holds ${held.output}: ${held.message}`,
      };
  }
  return { type: 'Scaling', status: 'False', reason: 'Steady', message: `at ${replicas} replicas${warm}, as desired` };
}

function ableToScale(i: PoolInspection): NewCondition {
  if (!i.target.ok) return { type: 'AbleToScale', status: 'False', reason: i.target.reason, message: i.target.message };
  const problem = selectorProblem(i.pool, i.target);
  if (problem?.reason === 'AmbiguousSelector') return { type: 'AbleToScale', status: 'False', ...problem };
  const ref = i.pool.spec.scaleTargetRef;
  return {
    type: 'AbleToScale',
    status: 'True',
    reason: 'SucceededGetScale',
    message: `${ref?.kind ?? ''} ${ref?.name ?? ''} is at ${i.target.scale.specReplicas} (${i.target.scale.statusReplicas} running)`,
  };
}

function metricsAvailable(i: PoolInspection): NewCondition {
  if ('error' in i.autoscaler) return { type: 'MetricsAvailable', status: 'Unknown', reason: 'DecisionFailed', message: i.autoscaler.error };
  const metrics = i.autoscaler.decision.metrics;
  if (metrics.length === 0) return { type: 'MetricsAvailable', status: 'True', reason: 'NoMetrics', message: 'the pool scales on no metric' };
  const bad = metrics.filter((m) => m.status !== 'ok');
  if (bad.length === 0)
    return {
      type: 'MetricsAvailable',
      status: 'True',
      reason: 'ValidMetricsFound',
      message: metrics.map((m) => `${m.type}=${m.value ?? '?'} (target ${m.target})`).join(', '),
    };
  return {
    type: 'MetricsAvailable',
    status: 'False',
    reason: bad.some((m) => m.status === 'failed') ? 'FailedGetMetrics' : 'MetricsMissing',
    message: bad.map((m) => `${m.type} ${m.status}${m.reason !== undefined ? `: ${m.reason}` : ''}`).join('; '),
  };
}

/** The decision's capacity stage: True when it found a shortfall (asked for anyway or held), Unknown when it could not count. */
function capacityLimited(i: PoolInspection): NewCondition {
  const type = 'CapacityLimited';
  if ('error' in i.autoscaler) return { type, status: 'Unknown', reason: 'DecisionFailed', message: i.autoscaler.error };
  const stage = i.autoscaler.decision.stages.find((s) => s.stage === 'capacity');
  if (stage === undefined || stage.reason === 'Skipped')
    return { type, status: 'False', reason: 'NotScalingUp', message: 'the last decision asked for no more replicas: capacity was not checked' };
  if (stage.reason === 'CapacityShort' || stage.reason === 'CapacityLimited') return { type, status: 'True', reason: stage.reason, message: stage.message };
  if (stage.reason === 'CapacityUnknown') return { type, status: 'Unknown', reason: stage.reason, message: stage.message };
  return { type, status: 'False', reason: stage.reason, message: stage.message };
}

/**
 * The conditions worth a Warning Event, when they turn to the status that is bad news for them (not
 * on every round they hold it), and whether a new message alone is news.
 */
const WARNED = [
  { type: 'AbleToScale', bad: 'False', newMessage: true },
  { type: 'Ready', bad: 'False', newMessage: false },
  // The counts in its message change every round it holds.
  { type: 'CapacityLimited', bad: 'True', newMessage: false },
] as const;

/** The Warning Events for conditions that turned bad between two rounds. */
export function conditionEvents(before: readonly Condition[], after: readonly Condition[]): PoolEvent[] {
  const events: PoolEvent[] = [];
  for (const { type, bad, newMessage } of WARNED) {
    const next = after.find((c) => c.type === type);
    const prev = before.find((c) => c.type === type);
    if (next === undefined || next.status !== bad || next.reason === undefined) continue;
    if (prev?.status === next.status && prev.reason === next.reason && (!newMessage || prev.message === next.message)) continue;
    // Ready says again what AbleToScale said about the target: one Event is enough.
    if (type === 'Ready' && after.some((c) => c.type === 'AbleToScale' && c.status === 'False' && c.reason === next.reason)) continue;
    if (type === 'Ready' && (next.reason === 'ReplicasNotReady' || next.reason === 'ReplicasMissing')) continue;
    events.push({ type: 'Warning', reason: next.reason, message: next.message ?? '' });
  }
  return events;
}

/** The pool's conditions now, keeping each one's transition time from `previous` when its status holds. */
export function poolConditions(i: PoolInspection, previous: readonly Condition[], now: string): Condition[] {
  return [ready(i), scaling(i), ableToScale(i), metricsAvailable(i), capacityLimited(i)].map((c) => {
    const before = previous.find((p) => p.type === c.type);
    return {
      ...c,
      lastTransitionTime: before !== undefined && before.status === c.status && before.lastTransitionTime !== undefined ? before.lastTransitionTime : now,
    };
  });
}
