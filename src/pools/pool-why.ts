/**
 * "Why is this pool not at N replicas?" in one answer: what the autoscaler wants and which stage held
 * it back, whether the target can be scaled and where it is, which pods are missing, pending (with
 * kube-scheduler's reasons, the extender's per-node reasons among them) or not ready, and the state
 * of the metrics. `answer` says it in sentences, most decisive first; the rest is the evidence.
 */
import { Type, type Static } from 'typebox';
import { Condition } from '../api/neuronetes.ts';
import { heldBack, poolConditions, selectorProblem, type PoolInspection } from './pool-conditions.ts';
import { warmSplit } from './prewarm.ts';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);

export const PoolWhy = Type.Object({
  pool: Type.Object({ namespace: Type.String(), name: Type.String() }),
  /** The count asked about: `?replicas=`, else the pool's desired count. */
  replicas: Type.Integer(),
  desiredReplicas: Type.Integer(),
  currentReplicas: Type.Integer(),
  readyReplicas: Type.Integer(),
  answer: Type.Array(Type.String()),
  target: Type.Object({
    ref: Type.Union([Type.Object({ apiVersion: Type.String(), kind: Type.String(), name: Type.String() }), Type.Null()]),
    ok: Type.Boolean(),
    reason: NullableString,
    message: NullableString,
    specReplicas: NullableInteger,
    statusReplicas: NullableInteger,
    selector: NullableString,
  }),
  pending: Type.Array(Type.Object({ name: Type.String(), reason: Type.String(), message: Type.String(), since: Type.Optional(Type.String()) })),
  autoscaler: Type.Object({
    desiredReplicas: NullableInteger,
    /** What the metrics alone ask for (the raw stage), before tolerance, bounds and rate limits; null when they recommend nothing. */
    wantedReplicas: NullableInteger,
    reason: NullableString,
    message: Type.String(),
    heldBackBy: Type.Union([
      Type.Object({ stage: Type.String(), reason: Type.String(), input: Type.Integer(), output: Type.Integer(), message: Type.String() }),
      Type.Null(),
    ]),
    /** The capacity stage's answer: can the cluster place what a scale-up asks for (null: no decision). */
    capacity: Type.Union([
      Type.Object({ reason: Type.String(), placeableReplicas: NullableInteger, shortfall: NullableString, message: Type.String() }),
      Type.Null(),
    ]),
  }),
  metrics: Type.Array(
    Type.Object({ type: Type.String(), status: Type.String(), value: Type.Union([Type.Number(), Type.Null()]), target: Type.String(), reason: NullableString }),
  ),
  conditions: Type.Array(Condition),
});

export type PoolWhy = Static<typeof PoolWhy>;

function autoscalerPart(i: PoolInspection): PoolWhy['autoscaler'] {
  if ('error' in i.autoscaler)
    return { desiredReplicas: null, wantedReplicas: null, reason: null, message: i.autoscaler.error, heldBackBy: null, capacity: null };
  const d = i.autoscaler.decision;
  const held = heldBack(d);
  const stage = d.stages.find((s) => s.stage === 'capacity');
  return {
    desiredReplicas: d.desiredReplicas,
    wantedReplicas: d.stages[0]?.reason === 'Recommended' ? d.stages[0].output : null,
    reason: d.reason,
    message: d.message,
    heldBackBy: held === undefined ? null : { stage: held.stage, reason: held.reason, input: held.input, output: held.output, message: held.message },
    capacity: stage === undefined ? null : { reason: stage.reason, placeableReplicas: d.placeableReplicas, shortfall: d.shortfall, message: stage.message },
  };
}

function answer(i: PoolInspection, asked: number, auto: PoolWhy['autoscaler']): string[] {
  const lines: string[] = [];
  const { replicas, readyReplicas, pending } = i.pods;
  if (!i.target.ok) lines.push(`the target cannot be scaled: ${i.target.message}`);
  else {
    const problem = selectorProblem(i.pool, i.target);
    if (problem !== undefined) lines.push(problem.message);
    const to = i.desired + i.warm;
    if (i.target.scale.specReplicas !== to) lines.push(`the target is at ${i.target.scale.specReplicas}, not yet ${to}${warmSplit(i.desired, i.warm)}`);
  }
  if (auto.desiredReplicas === null) lines.push(`the autoscaler could not decide: ${auto.message}`);
  else if (auto.desiredReplicas !== asked) {
    const held = auto.heldBackBy;
    lines.push(
      held !== null
        ? `the autoscaler decides ${auto.desiredReplicas}, not ${asked}: ${auto.wantedReplicas !== null ? `the metrics ask for ${auto.wantedReplicas}, ` : ''}its ${held.stage} stage holds ${held.output} (${held.reason}: ${held.message})`
        : `the autoscaler decides ${auto.desiredReplicas}, not ${asked}: ${auto.reason ?? ''}, ${auto.message}`,
    );
  }
  // Held by capacity, the line above says so; asked for anyway, the pods will wait for nodes.
  const capacity = auto.capacity;
  if (capacity?.reason === 'CapacityShort') lines.push(`the cluster cannot place them all now: ${capacity.message}`);
  if (capacity?.reason === 'CapacityUnknown') lines.push(capacity.message);
  if (i.desired !== asked && i.desired !== auto.desiredReplicas)
    lines.push(`spec.replicas is ${i.desired}: the decision has not been written to the pool (the actuator or KEDA writes it)`);
  if (replicas < i.desired) lines.push(`${i.desired - replicas} of ${i.desired} pods do not exist yet`);
  const unplaced = pending.filter((p) => p.reason !== 'NotYetScheduled');
  for (const p of unplaced) lines.push(`pod ${p.name} cannot be placed (${p.reason}): ${p.message}`);
  if (pending.length > unplaced.length) lines.push(`${pending.length - unplaced.length} pods wait for their first scheduling attempt`);
  const starting = replicas - readyReplicas - pending.length;
  if (starting > 0) lines.push(`${starting} bound pods are not ready yet`);
  if ('decision' in i.autoscaler) {
    for (const m of i.autoscaler.decision.metrics)
      if (m.status !== 'ok') lines.push(`metric ${m.type} is ${m.status}${m.reason !== undefined ? `: ${m.reason}` : ''}`);
  }
  if (lines.length === 0)
    lines.push(readyReplicas >= asked ? `the pool is at ${asked}: ${readyReplicas} ready` : `nothing holds it back: ${readyReplicas} of ${asked} ready`);
  return lines;
}

export function explainPool(i: PoolInspection, asked: number | undefined, now: string): PoolWhy {
  const replicas = asked ?? i.desired;
  const auto = autoscalerPart(i);
  const scale = i.target.ok ? i.target.scale : undefined;
  return {
    pool: { namespace: i.pool.metadata.namespace ?? 'default', name: i.pool.metadata.name },
    replicas,
    desiredReplicas: i.desired,
    currentReplicas: i.pods.replicas,
    readyReplicas: i.pods.readyReplicas,
    answer: answer(i, replicas, auto),
    target: {
      ref: i.pool.spec.scaleTargetRef ?? null,
      ok: i.target.ok,
      reason: i.target.ok ? null : i.target.reason,
      message: i.target.ok ? null : i.target.message,
      specReplicas: scale?.specReplicas ?? null,
      statusReplicas: scale?.statusReplicas ?? null,
      selector: scale?.selector ?? null,
    },
    pending: [...i.pods.pending],
    autoscaler: auto,
    metrics:
      'decision' in i.autoscaler
        ? i.autoscaler.decision.metrics.map((m) => ({ type: m.type, status: m.status, value: m.value, target: m.target, reason: m.reason ?? null }))
        : [],
    conditions: poolConditions(i, i.pool.status?.conditions ?? [], now),
  };
}
