/**
 * gpu-fit: the node has the pool's GPU type (typeMatches: `A100` is `NVIDIA-A100-SXM4-80GB`), enough
 * memory per GPU and enough free GPUs. Type and
 * memory mismatches, and nodes with fewer GPUs than the pool needs at all, are unresolvable; GPUs in
 * use are a shortfall preemption may fix. Scores GPU availability after placement: `pack` (default)
 * prefers fuller nodes to keep whole nodes free for big tensor-parallel pools, `spread` the emptier.
 */
import { Type } from 'typebox';
import { GPU_RESOURCE, type Node, type Pod } from '../../../src/api/kubernetes.ts';
import type { AgentPool } from '../../../src/api/neuronetes.ts';
import { SKIP, type FilterResult, type PassPlan, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { nodeFacts, podMigRequests } from './node-facts.ts';
import { Sources, typeMatches, unknownBecause } from './node-labels.ts';
import { definePluginConfig } from './plugin-config.ts';
import { poolFacts, type GpuNeed, type PoolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE, plural, shortfall, unresolvable, VerdictCache } from './verdicts.ts';

const config = definePluginConfig('gpu-fit', Type.Object({ strategy: Type.Enum(['pack', 'spread']) }), { strategy: 'pack' });

const wrongType = new VerdictCache();
const inUse = new VerdictCache();

/** Whole GPUs to place: a MIG pool, or a pod asking for a slice itself, takes a slice, which the mig plugin counts. */
const wholeGpus = (p: PoolFacts, pod: Pod): p is PoolFacts & { readonly gpu: GpuNeed } => p.gpu !== undefined && p.migProfile === undefined && podMigRequests(pod).size === 0;

/** 42949672960 → "40Gi", 85520809984 → "79.6Gi". */
const gibibytes = (bytes: number): string => `${Number.isInteger(bytes / 2 ** 30) ? bytes / 2 ** 30 : (bytes / 2 ** 30).toFixed(1)}Gi`;

export class GpuFitPlugin implements SchedulerPlugin {
  name(): string {
    return 'gpu-fit';
  }

  /** After the hard-only filters: its last check is a shortfall, which must not hide a mismatch. */
  priority(): number {
    return 220;
  }

  preFilter(ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return pool === undefined || poolFacts(ctx, pool).gpu === undefined ? SKIP : undefined;
  }

  filter(ctx: SchedulerContext, pod: Pod, node: Node, pool: AgentPool | undefined): FilterResult {
    if (pool === undefined) return true;
    const p = poolFacts(ctx, pool);
    const need = p.gpu;
    if (need === undefined) return true;
    const n = nodeFacts(ctx.cluster, node);
    const type = n.gpuType.value;
    if (need.typeTokens !== undefined) {
      if (type === undefined) return unresolvable(`needs ${need.label}; GPU type unknown: ${unknownBecause(n.gpuType, Sources.gpuType)}`);
      if (!typeMatches(need.typeTokens, n.gpuTypeTokens)) return wrongType.get(p, type) ?? wrongType.set(unresolvable(`needs ${need.type} GPUs, node has ${type}`));
    }
    if (!wholeGpus(p, pod)) return true;
    if (n.migSingleProfile !== undefined) return unresolvable(`needs ${need.label}; node's ${GPU_RESOURCE} are ${n.migSingleProfile} MIG slices (single strategy), not whole GPUs`);
    const memory = need.memory.value;
    if (memory !== undefined) {
      const has = n.gpuMemory.value;
      if (has === undefined) return unresolvable(`needs ${need.memory.text} per GPU; GPU memory unknown: ${unknownBecause(n.gpuMemory, Sources.gpuMemory)}`);
      if (has < memory) return unresolvable(`needs ${need.memory.text} per GPU, node's ${type === undefined ? '' : `${type} `}GPUs have ${gibibytes(has)} (${n.gpuMemory.from})`);
    }
    if (n.allocatableProblem !== undefined) return unresolvable(`needs ${need.label}; ${n.allocatableProblem}`);
    if (n.allocatableGpus === 0) return unresolvable(`needs ${need.label}, node has no allocatable ${GPU_RESOURCE}`);
    if (n.allocatableGpus < need.count) return unresolvable(`needs ${need.label}, node has only ${plural(n.allocatableGpus, 'GPU')} allocatable`);
    if (n.freeGpus < need.count) {
      return inUse.get(p, n.allocatableGpus, n.usedGpus) ?? inUse.set(shortfall(`needs ${need.label}, node has ${n.freeGpus} free (${n.usedGpus} of ${n.allocatableGpus} in use)`));
    }
    return true;
  }

  preScore(ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined): PassPlan {
    return pool !== undefined && wholeGpus(poolFacts(ctx, pool), pod) ? undefined : SKIP;
  }

  score(ctx: SchedulerContext, pod: Pod, node: Node, pool: AgentPool | undefined): number {
    if (pool === undefined) return NEUTRAL_SCORE;
    const p = poolFacts(ctx, pool);
    if (!wholeGpus(p, pod)) return NEUTRAL_SCORE;
    const n = nodeFacts(ctx.cluster, node);
    if (n.freeGpus < p.gpu.count || n.allocatableGpus === 0) return 0;
    const freeAfter = (100 * (n.freeGpus - p.gpu.count)) / n.allocatableGpus;
    return Math.round(config(ctx).strategy === 'spread' ? freeAfter : 100 - freeAfter);
  }
}
