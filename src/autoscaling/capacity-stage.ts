/**
 * The decision's last stage: can the cluster place the replicas a scale-up asks for? Pure: the
 * service counts (scheduling/placement-count.ts) and this turns the count into the stage, the
 * placeable count and the shortfall in words. Whether the unplaceable replicas are asked for anyway
 * is the pool's `autoscaling.requestUnplaceable` (default true: a cluster autoscaler such as
 * Karpenter adds nodes only for pods that exist and cannot be placed).
 */
import type { AgentPool } from '../api/neuronetes.ts';
import type { PlacementCount, ShortReason } from '../scheduling/placement-count.ts';
import { plural } from '../util/plural.ts';
import type { PipelineResult } from './decision-pipeline.ts';
import type { StageReport } from './decision.ts';

export interface CapacityAnswer {
  readonly stage: StageReport;
  /** The most replicas the pool can have now; null when not checked or not known. */
  readonly placeable: number | null;
  /** "wants 8, 5 can be placed: …", or null when everything fits or nothing was checked. */
  readonly shortfall: string | null;
}

/** How many reasons a shortfall names; the rest are counted. */
const MAX_REASONS = 3;

export const requestsUnplaceable = (pool: AgentPool): boolean => pool.spec.autoscaling?.requestUnplaceable ?? true;

/** What one replica needs, in words: "1×H100 80Gi", "a 1g.10gb MIG slice". */
export function replicaNeed(pool: AgentPool): string {
  const mig = pool.spec.migProfile;
  if (mig !== undefined) return `a ${mig.toLowerCase()} MIG slice`;
  const gpu = pool.spec.gpuRequirements;
  if (gpu !== undefined && gpu.count > 0) return `${gpu.count}×${gpu.type ?? 'GPU'}${gpu.memory !== undefined ? ` ${gpu.memory}` : ''}`;
  return "a node the pool's scheduler filters accept";
}

function reasonsText(reasons: readonly ShortReason[]): string {
  if (reasons.length === 0) return 'no node can take one';
  const named = reasons.slice(0, MAX_REASONS).map((r) => `${r.plugin} on ${plural(r.nodes, 'node')}: ${r.reason}`);
  const rest = reasons.length - MAX_REASONS;
  return named.join('; ') + (rest > 0 ? `; and ${plural(rest, 'other reason')}` : '');
}

export function skippedCapacity(value: number, why: string): CapacityAnswer {
  return { stage: { stage: 'capacity', input: value, output: value, reason: 'Skipped', message: why }, placeable: null, shortfall: null };
}

/** The stage for a scale-up from `current` to `input`, given the count of what fits. */
export function capacityStage(input: number, current: number, count: PlacementCount, pool: AgentPool): CapacityAnswer {
  const stage = { stage: 'capacity', input } as const;
  if (count.status === 'unknown')
    return {
      stage: { ...stage, output: input, reason: 'CapacityUnknown', message: `capacity unknown: ${count.message}; ${input} is asked for unchanged` },
      placeable: null,
      shortfall: null,
    };
  const more = input - current;
  const placed = Math.max(0, count.fit - count.pending);
  const placeable = current + Math.min(more, placed);
  const pending = count.pending > 0 ? ` (after the pool's ${plural(count.pending, 'pending pod')})` : '';
  if (placeable >= input)
    return {
      stage: { ...stage, output: input, reason: 'CapacityAvailable', message: `all ${more} more can be placed now${pending}` },
      placeable,
      shortfall: null,
    };
  const short = input - placeable;
  const shortfall = `wants ${input}, ${placeable} can be placed${pending}: ${short} more ${short === 1 ? 'needs' : 'need'} ${replicaNeed(pool)} each; ${reasonsText(count.reasons)}`;
  if (requestsUnplaceable(pool))
    return {
      stage: {
        ...stage,
        output: input,
        reason: 'CapacityShort',
        message: `${shortfall}; asking for all ${input} (requestUnplaceable) so that a cluster autoscaler can add nodes`,
      },
      placeable,
      shortfall,
    };
  return {
    stage: { ...stage, output: placeable, reason: 'CapacityLimited', message: `${shortfall}; holding at ${placeable} (requestUnplaceable: false)` },
    placeable,
    shortfall,
  };
}

/** The pipeline's result with the capacity stage after its others. */
export function withCapacity(result: PipelineResult, answer: CapacityAnswer): PipelineResult {
  const { stage } = answer;
  const changed = stage.output !== stage.input;
  return {
    ...result,
    desired: stage.output,
    stages: [...result.stages, stage],
    ...(changed ? { reason: stage.reason, message: stage.message } : {}),
  };
}
