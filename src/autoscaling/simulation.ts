/**
 * Replays a metric time series for a pool through the real decision path (same chain, same stages)
 * on a history of its own, applying every decision at once, and reports the replica curve, the scale
 * events, the time the pool spent over its targets and the GPU-hours it used — so behaviour settings
 * can be compared before they are applied.
 */
import type { AgentPool, AgentPoolSpec } from '../api/neuronetes.ts';
import { autoscalerCounts, servingReplicas } from '../pools/prewarm.ts';
import { InMemoryStateStore } from './autoscaler-state.ts';
import type { AutoscalerService, PoolInput } from './autoscaler-service.ts';
import { isKnown, type Decision, type MetricReport, type StageReason } from './decision.ts';
import { MetricInputError } from './metric-collection.ts';

export interface SimulationPoint {
  /** Seconds since the start; defaults to the point's index × stepSeconds. */
  readonly t?: number;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface SimulationRequest {
  readonly pool: PoolInput;
  /** Replaces the pool's `spec.autoscaling` (to try other behaviour settings). */
  readonly autoscaling?: AgentPoolSpec['autoscaling'];
  readonly startReplicas?: number;
  /** Epoch ms of t = 0. */
  readonly start?: number;
  /** At most SIMULATION_LIMITS.stepSeconds. */
  readonly stepSeconds?: number;
  readonly series: readonly SimulationPoint[];
}

export interface SimulationStep {
  readonly t: number;
  readonly time: string;
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  readonly reason: StageReason;
  /** Some metric is over its target with the replicas running after this step. */
  readonly overTarget: boolean;
}

export interface SimulationResult {
  readonly pool: { readonly namespace: string; readonly name: string };
  readonly steps: SimulationStep[];
  readonly scaleEvents: { readonly t: number; readonly time: string; readonly from: number; readonly to: number; readonly reason: StageReason }[];
  readonly summary: {
    readonly durationSeconds: number;
    readonly timeOverTargetSeconds: number;
    readonly replicaHours: number;
    readonly gpuHours: number;
    readonly gpusPerReplica: number;
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly scaleUps: number;
    readonly scaleDowns: number;
  };
}

/** A day per step and ten years in all: far past any trace, and every time stays a valid date. */
export const SIMULATION_LIMITS = { stepSeconds: 86_400, seconds: 315_360_000 } as const;

export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationError';
  }
}

function overTarget(metrics: readonly MetricReport[], replicas: number): boolean {
  return metrics.some((m) => {
    if (!isKnown(m) || m.value === null || m.targetValue === null) return false;
    return m.kind === 'additive' ? m.value > m.targetValue * replicas : m.value > m.targetValue;
  });
}

const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Each point's time in seconds (`t`, else its index × step), checked to be in range and in order. */
function pointTimes(series: SimulationRequest['series'], step: number): number[] {
  if (!(step > 0 && step <= SIMULATION_LIMITS.stepSeconds))
    throw new SimulationError(`stepSeconds must be in (0, ${SIMULATION_LIMITS.stepSeconds}], not ${step}`);
  const times = series.map((p, i) => p.t ?? i * step);
  for (const [i, t] of times.entries()) {
    if (!(t >= 0 && t <= SIMULATION_LIMITS.seconds)) throw new SimulationError(`series[${i}].t (${t}) must be in [0, ${SIMULATION_LIMITS.seconds}] seconds`);
    if (i > 0 && t < (times[i - 1] as number))
      throw new SimulationError(`series[${i}].t (${t}) is before series[${i - 1}].t (${times[i - 1]}): points must be in time order`);
  }
  return times;
}

/** The scale events, time over target and replica-time of the steps; step i lasts until point i + 1 (the last one `step`). */
function summarize(
  steps: readonly SimulationStep[],
  times: readonly number[],
  step: number,
  startReplicas: number,
  gpus: number,
): Omit<SimulationResult, 'pool' | 'steps'> {
  const events = steps
    .filter((s) => s.desiredReplicas !== s.currentReplicas)
    .map((s) => ({ t: s.t, time: s.time, from: s.currentReplicas, to: s.desiredReplicas, reason: s.reason }));
  let over = 0;
  let replicaSeconds = 0;
  for (const [i, s] of steps.entries()) {
    const dt = (times[i + 1] ?? s.t + step) - s.t;
    if (s.overTarget) over += dt;
    replicaSeconds += s.desiredReplicas * dt;
  }
  const counts = [startReplicas, ...steps.map((s) => s.desiredReplicas)];
  return {
    scaleEvents: events,
    summary: {
      durationSeconds: times.length === 0 ? 0 : (times.at(-1) as number) + step - (times[0] as number),
      timeOverTargetSeconds: over,
      replicaHours: round(replicaSeconds / 3600),
      gpuHours: round((replicaSeconds * gpus) / 3600),
      gpusPerReplica: gpus,
      minReplicas: Math.min(...counts),
      maxReplicas: Math.max(...counts),
      scaleUps: events.filter((e) => e.to > e.from).length,
      scaleDowns: events.filter((e) => e.to < e.from).length,
    },
  };
}

export async function simulate(service: AutoscalerService, request: SimulationRequest): Promise<SimulationResult> {
  const resolved = service.resolvePool(request.pool);
  const pool: AgentPool = request.autoscaling !== undefined ? { ...resolved, spec: { ...resolved.spec, autoscaling: request.autoscaling } } : resolved;
  const step = request.stepSeconds ?? 15;
  const start = request.start ?? 0;
  const times = pointTimes(request.series, step);
  const store = new InMemoryStateStore();
  const startReplicas = request.startReplicas ?? autoscalerCounts(pool).replicas ?? servingReplicas(pool);
  let current = startReplicas;
  const steps: SimulationStep[] = [];
  for (const [i, point] of request.series.entries()) {
    const t = times[i] as number;
    // The simulation is its own actuator: each decision is applied at once, so the next one sees its
    // desiredReplicas and counts the scale at this decision's time, as it does for the actuator.
    const decision: Decision = await service
      .decide(
        { pool, currentReplicas: current, metrics: point.metrics, now: start + t * 1000 },
        { store, fetchMetrics: false, observe: false, checkCapacity: false },
      )
      .catch((e: unknown) => {
        throw e instanceof MetricInputError ? new SimulationError(`series[${i}].${e.message}`) : e;
      });
    const from = current;
    current = decision.desiredReplicas;
    steps.push({
      t,
      time: decision.time,
      currentReplicas: from,
      desiredReplicas: current,
      reason: decision.reason,
      overTarget: overTarget(decision.metrics, current),
    });
  }
  const ref = { namespace: pool.metadata.namespace ?? 'default', name: pool.metadata.name };
  return { pool: ref, steps, ...summarize(steps, times, step, startReplicas, pool.spec.gpuRequirements?.count ?? 0) };
}
