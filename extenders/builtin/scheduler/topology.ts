/**
 * topology: `gpuRequirements.topology.locality`. `same-node` (and `same-socket`, which nodes do not
 * advertise, so judged as same-node) needs the node to hold all `count` GPUs; `nvlink` also needs an
 * NVLink or NVSwitch interconnect (the node's `neuronetes.io/gpu-topology`, else GFD's NVLink clique,
 * else its instance type in `instanceInterconnects`); `minBandwidth` is checked when the node
 * advertises its bandwidth.
 * Only what preemption cannot change is judged here: free GPUs are gpu-fit's, which runs after.
 * Scores multi-GPU pools by interconnect (config `interconnectScores`).
 */
import { Type } from 'typebox';
import type { Node, Pod } from '../../../src/api/kubernetes.ts';
import type { AgentPool } from '../../../src/api/neuronetes.ts';
import { SKIP, type FilterResult, type PassPlan, type PluginContext, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { nodeFacts, type NodeFacts } from './node-facts.ts';
import { DEFAULT_INSTANCE_INTERCONNECTS, instanceInterconnect, labelNames, Sources, type Fact } from './node-labels.ts';
import { definePluginConfig } from './plugin-config.ts';
import { poolFacts, type PoolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE, plural, unresolvable, VerdictCache } from './verdicts.ts';

const NVLINK = new Set(['nvlink', 'nvswitch']);
const Score = Type.Number({ minimum: 0, maximum: 100 });
const config = definePluginConfig(
  'topology',
  Type.Object({
    interconnectScores: Type.Record(Type.String(), Score),
    unknownInterconnectScore: Score,
    /** Instance-type prefix → interconnect, added to (or overriding) DEFAULT_INSTANCE_INTERCONNECTS. */
    instanceInterconnects: Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: '^[A-Za-z0-9-]+$' })),
  }),
  { interconnectScores: { nvswitch: 100, nvlink: 100, pcie: 40 }, unknownInterconnectScore: 20, instanceInterconnects: {} },
);

/** The instance table per resolved config (replaced whole on reload). */
const tables = new WeakMap<object, Readonly<Record<string, string>>>();

/**
 * The node's GPU interconnect as this plugin sees it: its labels (`neuronetes.io/gpu-topology`, GFD's
 * clique), else its instance type in the built-in table with the config's `instanceInterconnects`.
 */
export function interconnectOf(ctx: PluginContext, n: NodeFacts): Fact<string> {
  if (n.interconnect.from !== undefined) return n.interconnect;
  const type = n.instanceType.value;
  if (type === undefined) return n.interconnect;
  const c = config(ctx);
  let table = tables.get(c);
  if (table === undefined) tables.set(c, (table = { ...DEFAULT_INSTANCE_INTERCONNECTS, ...c.instanceInterconnects }));
  return instanceInterconnect(type, table);
}

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
      const link = interconnectOf(ctx, n);
      if (link.value === undefined) {
        return unresolvable(`${needs()}; GPU interconnect unknown: ${link.problem ?? `no ${labelNames(Sources.interconnect)} label, and instance type ${n.instanceType.value ?? '(none)'} is not in the interconnect table`}`);
      }
      if (!NVLINK.has(link.value)) return wrongLink.get(p, link.value) ?? wrongLink.set(unresolvable(`${needs()}; node's GPUs are on ${link.value} (${link.from ?? ''})`));
    }
    if (n.allocatableGpus < count) {
      return tooFew.get(p, n.allocatableGpus) ?? tooFew.set(unresolvable(`needs all ${plural(count, 'GPU')} on one node; node has ${n.allocatableGpus === 0 ? 'none' : `only ${n.allocatableGpus}`}`));
    }
    const min = p.minBandwidth.value;
    const has = n.bandwidth.value;
    if (min !== undefined && has !== undefined && has < min) {
      return unresolvable(`needs ${p.minBandwidth.text} of GPU interconnect bandwidth; node has less (${n.bandwidth.from ?? ''})`);
    }
    return true;
  }

  preScore(ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return pool !== undefined && weighsInterconnect(poolFacts(ctx, pool)) ? undefined : SKIP;
  }

  score(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): number {
    if (pool === undefined || !weighsInterconnect(poolFacts(ctx, pool))) return NEUTRAL_SCORE;
    const c = config(ctx);
    const interconnect = interconnectOf(ctx, nodeFacts(ctx.cluster, node)).value;
    return (interconnect === undefined ? undefined : c.interconnectScores[interconnect]) ?? c.unknownInterconnectScore;
  }
}
