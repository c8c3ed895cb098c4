/**
 * topology: `gpuRequirements.topology.locality`. `same-node` (and `same-socket`, which nodes do not
 * advertise, so judged as same-node) needs the node to hold all `count` GPUs; `nvlink` also needs an
 * NVLink or NVSwitch interconnect (the node's `neuronetes.io/gpu-topology`, else GFD's NVLink clique,
 * else its instance type in `instanceInterconnects`); `minBandwidth` is checked when the node
 * advertises its bandwidth.
 * Only what preemption cannot change is judged here: free GPUs are gpu-fit's, which runs after.
 * Scores multi-GPU pools by interconnect (config `interconnectScores`).
 */
import {
  DEFAULT_INSTANCE_INTERCONNECTS,
  definePlugin,
  FactSources,
  instanceInterconnect,
  labelNames,
  SKIP,
  stateKey,
  type Fact,
  type NodeFacts,
} from 'neuronetes';
import { Type, type Static } from 'typebox';
import { poolFacts, type PoolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE, plural, unresolvable, VerdictCache } from './verdicts.ts';

const NVLINK: ReadonlySet<string> = new Set(['nvlink', 'nvswitch']);
const Score = Type.Number({ minimum: 0, maximum: 100 });

export const TopologyConfig = Type.Object(
  {
    interconnectScores: Type.Record(Type.String(), Score, { default: { nvswitch: 100, nvlink: 100, pcie: 40 } }),
    unknownInterconnectScore: Type.Number({ minimum: 0, maximum: 100, default: 20 }),
    /** Instance-type prefix → interconnect, added to (or overriding) DEFAULT_INSTANCE_INTERCONNECTS. */
    instanceInterconnects: Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: '^[A-Za-z0-9-]+$' }), { default: {} }),
  },
  { additionalProperties: false },
);
export type TopologyConfig = Static<typeof TopologyConfig>;

/** Instance-type prefix → interconnect: the built-in table with the config's `instanceInterconnects` over it. */
export const interconnectTable = (overrides: TopologyConfig['instanceInterconnects']): Readonly<Record<string, string>> => ({
  ...DEFAULT_INSTANCE_INTERCONNECTS,
  ...overrides,
});

/**
 * The node's GPU interconnect as this plugin sees it: its labels (`neuronetes.io/gpu-topology`, GFD's
 * clique), else its instance type in `table` (interconnectTable).
 */
export function interconnectOf(n: NodeFacts, table: Readonly<Record<string, string>>): Fact<string> {
  if (n.interconnect.from !== undefined) return n.interconnect;
  const type = n.instanceType.value;
  return type === undefined ? n.interconnect : instanceInterconnect(type, table);
}

/** Whether the pool asks for a locality; without one any node's GPUs will do. */
const asksLocality = (p: PoolFacts): boolean => p.locality !== undefined && p.locality !== 'any';
/** Interconnect matters only when a replica spans GPUs or the pool asks for a locality. */
const weighsInterconnect = (p: PoolFacts): boolean => (p.gpu?.count ?? 0) > 1 || asksLocality(p);

const Verdicts = stateKey<{ readonly wrongLink: VerdictCache; readonly tooFew: VerdictCache }>('topology/verdicts');
const newVerdicts = (): { wrongLink: VerdictCache; tooFew: VerdictCache } => ({ wrongLink: new VerdictCache(), tooFew: new VerdictCache() });

export const topologyPlugin = definePlugin({
  type: 'scheduler',
  name: 'topology',
  priority: 260,
  config: TopologyConfig,
  defaults: { weight: 25 },
  create: (config) => {
    const table = interconnectTable(config.instanceInterconnects);
    return {
      preFilter(ctx, _pod, pool) {
        return pool !== undefined && asksLocality(poolFacts(ctx, pool)) ? undefined : SKIP;
      },

      filter(ctx, _pod, node, pool) {
        if (pool === undefined) return true;
        const p = poolFacts(ctx, pool);
        if (!asksLocality(p)) return true;
        const count = p.gpu?.count ?? 1;
        const n = ctx.cluster.nodeFacts(node);
        if (p.locality === 'nvlink') {
          const needs = (): string => `needs ${p.gpu?.label ?? plural(count, 'GPU')} joined by NVLink`;
          const link = interconnectOf(n, table);
          if (link.value === undefined) {
            return unresolvable(
              `${needs()}; GPU interconnect unknown: ${link.problem ?? `no ${labelNames(FactSources.interconnect)} label, and instance type ${n.instanceType.value ?? '(none)'} is not in the interconnect table`}`,
            );
          }
          if (!NVLINK.has(link.value)) {
            const { wrongLink } = ctx.state.readOrCompute(Verdicts, newVerdicts);
            return wrongLink.get(link.value) ?? wrongLink.set(unresolvable(`${needs()}; node's GPUs are on ${link.value} (${link.from ?? ''})`));
          }
        }
        if (n.allocatableGpus < count) {
          const { tooFew } = ctx.state.readOrCompute(Verdicts, newVerdicts);
          return (
            tooFew.get(n.allocatableGpus) ??
            tooFew.set(
              unresolvable(`needs all ${plural(count, 'GPU')} on one node; node has ${n.allocatableGpus === 0 ? 'none' : `only ${n.allocatableGpus}`}`),
            )
          );
        }
        const min = p.minBandwidth.value;
        const has = n.bandwidth.value;
        if (min !== undefined && has !== undefined && has < min) {
          return unresolvable(`needs ${p.minBandwidth.text} of GPU interconnect bandwidth; node has less (${n.bandwidth.from ?? ''})`);
        }
        return true;
      },

      preScore(ctx, _pod, pool) {
        return pool !== undefined && weighsInterconnect(poolFacts(ctx, pool)) ? undefined : SKIP;
      },

      score(ctx, _pod, node, pool) {
        if (pool === undefined || !weighsInterconnect(poolFacts(ctx, pool))) return NEUTRAL_SCORE;
        const interconnect = interconnectOf(ctx.cluster.nodeFacts(node), table).value;
        return (interconnect === undefined ? undefined : config.interconnectScores[interconnect]) ?? config.unknownInterconnectScore;
      },
    };
  },
});
