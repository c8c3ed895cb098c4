/**
 * topology: `gpuRequirements.topology.locality`. `same-node` (and `same-socket`, which nodes do not
 * advertise, so judged as same-node) needs the node to hold all `count` GPUs; `nvlink` also needs an
 * NVLink or NVSwitch interconnect; `minBandwidth` is checked when the node advertises its bandwidth.
 * Only what preemption cannot change is judged here: free GPUs are gpu-fit's, which runs after.
 * Scores multi-GPU pools by interconnect (config `interconnectScores`).
 */
import { Type } from 'typebox';
import type { Node, Pod } from '../../../src/api/kubernetes.ts';
import { Labels, type AgentPool } from '../../../src/api/neuronetes.ts';
import { SKIP, type FilterResult, type PassPlan, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { GPU_BANDWIDTH_LABEL, nodeFacts } from './node-facts.ts';
import { definePluginConfig } from './plugin-config.ts';
import { poolFacts, type PoolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE, plural, unresolvable, VerdictCache } from './verdicts.ts';

const NVLINK = new Set(['nvlink', 'nvswitch']);
const Score = Type.Number({ minimum: 0, maximum: 100 });
const config = definePluginConfig(
  'topology',
  Type.Object({ interconnectScores: Type.Record(Type.String(), Score), unknownInterconnectScore: Score }),
  { interconnectScores: { nvswitch: 100, nvlink: 100, pcie: 40 }, unknownInterconnectScore: 20 },
);

const wrongLink = new VerdictCache();
const tooFew = new VerdictCache();

/** Whether the pool asks for a locality; without one any node's GPUs will do. */
const asksLocality = (p: PoolFacts): boolean => p.locality !== undefined && p.locality !== 'any';
/** Interconnect matters only when a replica spans GPUs or the pool asks for a locality. */
const weighsInterconnect = (p: PoolFacts): boolean => (p.gpu?.count ?? 0) > 1 || asksLocality(p);

export class TopologyPlugin implements SchedulerPlugin {
  name(): string {
    return 'topology';
  }

  priority(): number {
    return 260;
  }

  preFilter(ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return pool !== undefined && asksLocality(poolFacts(ctx, pool)) ? undefined : SKIP;
  }

  filter(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): FilterResult {
    if (pool === undefined) return true;
    const p = poolFacts(ctx, pool);
    if (!asksLocality(p)) return true;
    const count = p.gpu?.count ?? 1;
    const n = nodeFacts(ctx.cluster, node);
    if (p.locality === 'nvlink') {
      const needs = (): string => `needs ${p.gpu?.label ?? plural(count, 'GPU')} joined by NVLink`;
      if (n.interconnect === undefined) return unresolvable(`${needs()}; node does not advertise its GPU interconnect (no ${Labels.gpuTopology} label)`);
      if (!NVLINK.has(n.interconnect)) return wrongLink.get(p, n.interconnect) ?? wrongLink.set(unresolvable(`${needs()}; node's GPUs are on ${n.interconnect}`));
    }
    if (n.allocatableGpus < count) {
      return tooFew.get(p, n.allocatableGpus) ?? tooFew.set(unresolvable(`needs all ${plural(count, 'GPU')} on one node; node has ${n.allocatableGpus === 0 ? 'none' : `only ${n.allocatableGpus}`}`));
    }
    const min = p.minBandwidth.value;
    const has = n.bandwidth.value;
    if (min !== undefined && has !== undefined && has < min) {
      return unresolvable(`needs ${p.minBandwidth.text} of GPU interconnect bandwidth; node has ${n.bandwidth.text} (${GPU_BANDWIDTH_LABEL})`);
    }
    return true;
  }

  preScore(ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return pool !== undefined && weighsInterconnect(poolFacts(ctx, pool)) ? undefined : SKIP;
  }

  score(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): number {
    if (pool === undefined || !weighsInterconnect(poolFacts(ctx, pool))) return NEUTRAL_SCORE;
    const c = config(ctx);
    const interconnect = nodeFacts(ctx.cluster, node).interconnect;
    return (interconnect === undefined ? undefined : c.interconnectScores[interconnect]) ?? c.unknownInterconnectScore;
  }
}
