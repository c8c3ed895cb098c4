/**
 * gpu-fit: the node has the pool's GPU type, enough memory per GPU and enough free GPUs. Type and
 * memory mismatches, and nodes with fewer GPUs than the pool needs at all, are unresolvable; GPUs in
 * use are a shortfall preemption may fix. Scores GPU availability after placement: `pack` (default)
 * prefers fuller nodes to keep whole nodes free for big tensor-parallel pools, `spread` the emptier.
 */
import { Type } from 'typebox';
import { GPU_RESOURCE, type Node, type Pod } from '../../../src/api/kubernetes.ts';
import { Labels, type AgentPool } from '../../../src/api/neuronetes.ts';
import { SKIP, type FilterResult, type PassPlan, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { nodeFacts } from './node-facts.ts';
import { definePluginConfig } from './plugin-config.ts';
import { poolFacts, type GpuNeed, type PoolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE, plural, shortfall, unresolvable, VerdictCache } from './verdicts.ts';

const config = definePluginConfig('gpu-fit', Type.Object({ strategy: Type.Enum(['pack', 'spread']) }), { strategy: 'pack' });

const wrongType = new VerdictCache();
const inUse = new VerdictCache();

/** Whole GPUs to place: a MIG pool takes a slice, which the mig plugin counts. */
const wholeGpus = (p: PoolFacts): p is PoolFacts & { readonly gpu: GpuNeed } => p.gpu !== undefined && p.migProfile === undefined;

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

  filter(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): FilterResult {
    if (pool === undefined) return true;
    const p = poolFacts(ctx, pool);
    const need = p.gpu;
    if (need === undefined) return true;
    const n = nodeFacts(ctx.cluster, node);
    if (need.typeKey !== undefined) {
      if (n.gpuTypeKey === undefined) return unresolvable(`needs ${need.label}; node has no ${Labels.gpuType} label`);
      if (n.gpuTypeKey !== need.typeKey) return wrongType.get(p, n.gpuType) ?? wrongType.set(unresolvable(`needs ${need.type} GPUs, node has ${n.gpuType}`));
    }
    if (!wholeGpus(p)) return true;
    const memory = need.memory.value;
    if (memory !== undefined) {
      if (n.gpuMemory.text === undefined) return unresolvable(`needs ${need.memory.text} per GPU; node does not say how much it has (no ${Labels.gpuMemory} label)`);
      if (n.gpuMemory.value === undefined) return unresolvable(`needs ${need.memory.text} per GPU; gpu-memory label '${n.gpuMemory.text}' is not a quantity`);
      if (n.gpuMemory.value < memory) return unresolvable(`needs ${need.memory.text} per GPU, node's ${n.gpuType === undefined ? '' : `${n.gpuType} `}GPUs have ${n.gpuMemory.text}`);
    }
    if (n.allocatableProblem !== undefined) return unresolvable(`needs ${need.label}; ${n.allocatableProblem}`);
    if (n.allocatableGpus === 0) return unresolvable(`needs ${need.label}, node has no allocatable ${GPU_RESOURCE}`);
    if (n.allocatableGpus < need.count) return unresolvable(`needs ${need.label}, node has only ${plural(n.allocatableGpus, 'GPU')} allocatable`);
    if (n.freeGpus < need.count) {
      return inUse.get(p, n.allocatableGpus, n.usedGpus) ?? inUse.set(shortfall(`needs ${need.label}, node has ${n.freeGpus} free (${n.usedGpus} of ${n.allocatableGpus} in use)`));
    }
    return true;
  }

  preScore(ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return pool !== undefined && wholeGpus(poolFacts(ctx, pool)) ? undefined : SKIP;
  }

  score(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): number {
    if (pool === undefined) return NEUTRAL_SCORE;
    const p = poolFacts(ctx, pool);
    if (!wholeGpus(p)) return NEUTRAL_SCORE;
    const n = nodeFacts(ctx.cluster, node);
    if (n.freeGpus < p.gpu.count || n.allocatableGpus === 0) return 0;
    const freeAfter = (100 * (n.freeGpus - p.gpu.count)) / n.allocatableGpus;
    return Math.round(config(ctx).strategy === 'spread' ? freeAfter : 100 - freeAfter);
  }
}
