/**
 * gpu-fit: the node has the pool's GPU type (typeMatches: `A100` is `NVIDIA-A100-SXM4-80GB`), enough
 * memory per GPU and enough free GPUs. Type and
 * memory mismatches, and nodes with fewer GPUs than the pool needs at all, are unresolvable; GPUs in
 * use are a shortfall preemption may fix. Scores GPU availability after placement: `pack` (default)
 * prefers fuller nodes to keep whole nodes free for big tensor-parallel pools, `spread` the emptier.
 */
import { definePlugin, FactSources, GPU_RESOURCE, podMigRequests, SKIP, stateKey, typeMatches, unknownBecause, type Pod } from 'neuronetes';
import { Type } from 'typebox';
import { poolFacts, type GpuNeed, type PoolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE, plural, shortfall, unresolvable, VerdictCache } from './verdicts.ts';

/** Whole GPUs to place: a MIG pool, or a pod asking for a slice itself, takes a slice, which the mig plugin counts. */
const wholeGpus = (p: PoolFacts, pod: Pod): p is PoolFacts & { readonly gpu: GpuNeed } =>
  p.gpu !== undefined && p.migProfile === undefined && podMigRequests(pod).size === 0;

/** 42949672960 → "40Gi", 85520809984 → "79.6Gi". */
const gibibytes = (bytes: number): string => `${Number.isInteger(bytes / 2 ** 30) ? bytes / 2 ** 30 : (bytes / 2 ** 30).toFixed(1)}Gi`;

const Verdicts = stateKey<{ readonly wrongType: VerdictCache; readonly inUse: VerdictCache }>('gpu-fit/verdicts');
const newVerdicts = (): { wrongType: VerdictCache; inUse: VerdictCache } => ({ wrongType: new VerdictCache(), inUse: new VerdictCache() });

export const gpuFitPlugin = definePlugin({
  type: 'scheduler',
  name: 'gpu-fit',
  /** After the hard-only filters: its last check is a shortfall, which must not hide a mismatch. */
  priority: 220,
  config: Type.Object({ strategy: Type.Enum(['pack', 'spread'], { default: 'pack' }) }, { additionalProperties: false }),
  defaults: { weight: 30 },
  create: (config) => ({
    preFilter(ctx, _pod, pool) {
      return pool === undefined || poolFacts(ctx, pool).gpu === undefined ? SKIP : undefined;
    },

    filter(ctx, pod, node, pool) {
      if (pool === undefined) return true;
      const p = poolFacts(ctx, pool);
      const need = p.gpu;
      if (need === undefined) return true;
      const n = ctx.cluster.nodeFacts(node);
      const type = n.gpuType.value;
      if (need.typeTokens !== undefined) {
        if (type === undefined) return unresolvable(`needs ${need.label}; GPU type unknown: ${unknownBecause(n.gpuType, FactSources.gpuType)}`);
        if (!typeMatches(need.typeTokens, n.gpuTypeTokens)) {
          const { wrongType } = ctx.state.readOrCompute(Verdicts, newVerdicts);
          return wrongType.get(type) ?? wrongType.set(unresolvable(`needs ${need.type} GPUs, node has ${type}`));
        }
      }
      if (!wholeGpus(p, pod)) return true;
      if (n.migSingleProfile !== undefined)
        return unresolvable(`needs ${need.label}; node's ${GPU_RESOURCE} are ${n.migSingleProfile} MIG slices (single strategy), not whole GPUs`);
      const memory = need.memory.value;
      if (memory !== undefined) {
        const has = n.gpuMemory.value;
        if (has === undefined)
          return unresolvable(`needs ${need.memory.text} per GPU; GPU memory unknown: ${unknownBecause(n.gpuMemory, FactSources.gpuMemory)}`);
        if (has < memory)
          return unresolvable(
            `needs ${need.memory.text} per GPU, node's ${type === undefined ? '' : `${type} `}GPUs have ${gibibytes(has)} (${n.gpuMemory.from})`,
          );
      }
      if (n.allocatableProblem !== undefined) return unresolvable(`needs ${need.label}; ${n.allocatableProblem}`);
      if (n.allocatableGpus === 0) return unresolvable(`needs ${need.label}, node has no allocatable ${GPU_RESOURCE}`);
      if (n.allocatableGpus < need.count) return unresolvable(`needs ${need.label}, node has only ${plural(n.allocatableGpus, 'GPU')} allocatable`);
      if (n.freeGpus < need.count) {
        const { inUse } = ctx.state.readOrCompute(Verdicts, newVerdicts);
        return (
          inUse.get(n.allocatableGpus, n.usedGpus) ??
          inUse.set(shortfall(`needs ${need.label}, node has ${n.freeGpus} free (${n.usedGpus} of ${n.allocatableGpus} in use)`))
        );
      }
      return true;
    },

    preScore(ctx, pod, pool) {
      return pool !== undefined && wholeGpus(poolFacts(ctx, pool), pod) ? undefined : SKIP;
    },

    score(ctx, pod, node, pool) {
      if (pool === undefined) return NEUTRAL_SCORE;
      const p = poolFacts(ctx, pool);
      if (!wholeGpus(p, pod)) return NEUTRAL_SCORE;
      const n = ctx.cluster.nodeFacts(node);
      if (n.freeGpus < p.gpu.count || n.allocatableGpus === 0) return 0;
      const freeAfter = (100 * (n.freeGpus - p.gpu.count)) / n.allocatableGpus;
      return Math.round(config.strategy === 'spread' ? freeAfter : 100 - freeAfter);
    },
  }),
});
