/**
 * cost: for pools with `scheduling.costOptimization.enabled`. Filters spot nodes (any cloud's
 * capacity-type label, see FactSources) unless the pool allows spot, and nodes above `maxCostPerHour`.
 * A node's price is its `neuronetes.io/cost-per-hour` label, else the config's `priceTable` entry for
 * its instance type; a node with neither passes (its price is unknown, not high). Scores cheaper higher, 100 × ref / (ref + price) with ref the pool's
 * `maxCostPerHour` or the config's `referenceCostPerHour`, plus `spotBonus` for allowed spot nodes.
 */
import { definePlugin, Labels, SKIP, stateKey, type AgentPool, type NodeFacts } from 'neuronetes';
import { Type, type Static } from 'typebox';
import { NEUTRAL_SCORE, unresolvable, VerdictCache } from './verdicts.ts';

export const CostConfig = Type.Object(
  {
    /** Instance type → $/h, for nodes without a cost-per-hour label. */
    priceTable: Type.Record(Type.String(), Type.Number({ minimum: 0 }), { default: {} }),
    referenceCostPerHour: Type.Number({ exclusiveMinimum: 0, default: 10 }),
    spotBonus: Type.Number({ minimum: 0, maximum: 100, default: 10 }),
  },
  { additionalProperties: false },
);
export type CostConfig = Static<typeof CostConfig>;

const dollars = (n: number): string => `$${n.toFixed(2)}/h`;

/**
 * The node's hourly price and where it came from, or undefined when nothing says. A cost-per-hour
 * label that cannot be read leaves the price unknown: the table is not a silent stand-in for it.
 * Exported for /debug/nodes.
 */
export function priceOf(n: NodeFacts, table: CostConfig['priceTable']): { price: number; from: string } | undefined {
  if (n.costPerHour.value !== undefined) return { price: n.costPerHour.value, from: Labels.costPerHour };
  if (n.costPerHour.from !== undefined) return undefined;
  const type = n.instanceType.value;
  const listed = type === undefined ? undefined : table[type];
  return listed === undefined ? undefined : { price: listed, from: `the price table for ${type}` };
}

const isSpot = (n: NodeFacts): boolean => n.capacityType.value === 'spot';

type CostPolicy = NonNullable<NonNullable<AgentPool['spec']['scheduling']>['costOptimization']>;

/** The pool's cost policy when it is enabled: without one, the plugin neither filters nor scores. */
const policyOf = (pool: AgentPool | undefined): CostPolicy | undefined => {
  const policy = pool?.spec.scheduling?.costOptimization;
  return policy?.enabled === true ? policy : undefined;
};

const OverBudget = stateKey<VerdictCache>('cost/over-budget');

export const costPlugin = definePlugin({
  type: 'scheduler',
  name: 'cost',
  priority: 280,
  config: CostConfig,
  defaults: { weight: 15 },
  create: (config) => ({
    /** Nothing to filter unless the policy rules out spot nodes or caps the price. */
    preFilter(_ctx, _pod, pool) {
      const policy = policyOf(pool);
      return policy === undefined || (policy.spotEnabled === true && policy.maxCostPerHour === undefined) ? SKIP : undefined;
    },

    filter(ctx, _pod, node, pool) {
      const policy = policyOf(pool);
      if (pool === undefined || policy === undefined) return true;
      const n = ctx.cluster.nodeFacts(node);
      if (policy.spotEnabled !== true) {
        if (isSpot(n)) return unresolvable(`spot node (${n.capacityType.from ?? ''}); the pool does not allow spot (costOptimization.spotEnabled is not true)`);
        // Unreadable is not on-demand: the node may be spot.
        if (n.capacityType.problem !== undefined)
          return unresolvable(`capacity type unknown (${n.capacityType.problem}); the pool does not allow spot (costOptimization.spotEnabled is not true)`);
      }
      const max = policy.maxCostPerHour;
      if (max === undefined) return true;
      const priced = priceOf(n, config.priceTable);
      if (priced !== undefined && priced.price > max) {
        const overBudget = ctx.state.readOrCompute(OverBudget, () => new VerdictCache());
        return (
          overBudget.get(priced.price, priced.from) ??
          overBudget.set(unresolvable(`costs ${dollars(priced.price)} (${priced.from}), the pool allows at most ${dollars(max)}`))
        );
      }
      return true;
    },

    preScore(_ctx, _pod, pool) {
      return policyOf(pool) === undefined ? SKIP : undefined;
    },

    score(ctx, _pod, node, pool) {
      const policy = policyOf(pool);
      if (policy === undefined) return NEUTRAL_SCORE;
      const n = ctx.cluster.nodeFacts(node);
      const priced = priceOf(n, config.priceTable);
      if (priced === undefined) return NEUTRAL_SCORE;
      const ref = policy.maxCostPerHour !== undefined && policy.maxCostPerHour > 0 ? policy.maxCostPerHour : config.referenceCostPerHour;
      const score = Math.round((100 * ref) / (ref + priced.price));
      return isSpot(n) && policy.spotEnabled === true ? Math.min(100, score + config.spotBonus) : score;
    },
  }),
});
