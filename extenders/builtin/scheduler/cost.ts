/**
 * cost: for pools with `scheduling.costOptimization.enabled`. Filters spot nodes (any cloud's
 * capacity-type label, node-labels.ts) unless the pool allows spot, and nodes above `maxCostPerHour`.
 * A node's price is its `neuronetes.io/cost-per-hour` label, else the config's `priceTable` entry for
 * its instance type; a node with neither passes (its price is unknown, not high). Scores cheaper higher, 100 × ref / (ref + price) with ref the pool's
 * `maxCostPerHour` or the config's `referenceCostPerHour`, plus `spotBonus` for allowed spot nodes.
 */
import { Type } from 'typebox';
import type { Node, Pod } from '../../../src/api/kubernetes.ts';
import { Labels, type AgentPool } from '../../../src/api/neuronetes.ts';
import { SKIP, type FilterResult, type PassPlan, type PluginContext, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { nodeFacts, type NodeFacts } from './node-facts.ts';
import { definePluginConfig } from './plugin-config.ts';
import { poolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE, unresolvable, VerdictCache } from './verdicts.ts';

const Price = Type.Number({ minimum: 0 });
const config = definePluginConfig(
  'cost',
  Type.Object({
    priceTable: Type.Record(Type.String(), Price),
    referenceCostPerHour: Type.Number({ exclusiveMinimum: 0 }),
    spotBonus: Type.Number({ minimum: 0, maximum: 100 }),
  }),
  { priceTable: {}, referenceCostPerHour: 10, spotBonus: 10 },
);

const dollars = (n: number): string => `$${n.toFixed(2)}/h`;

/**
 * The node's hourly price and where it came from, or undefined when nothing says. A cost-per-hour
 * label that cannot be read leaves the price unknown: the table is not a silent stand-in for it.
 */
function priceOf(n: NodeFacts, table: Readonly<Record<string, number>>): { price: number; from: string } | undefined {
  if (n.costPerHour.value !== undefined) return { price: n.costPerHour.value, from: Labels.costPerHour };
  if (n.costPerHour.from !== undefined) return undefined;
  const type = n.instanceType.value;
  const listed = type === undefined ? undefined : table[type];
  return listed === undefined ? undefined : { price: listed, from: `the price table for ${type}` };
}

/** Exported for /debug/nodes: the price the cost plugin would use for the node. */
export const priceFor = (ctx: PluginContext, n: NodeFacts): { price: number; from: string } | undefined => priceOf(n, config(ctx).priceTable);

const isSpot = (n: NodeFacts): boolean => n.capacityType.value === 'spot';

const overBudget = new VerdictCache();

type CostPolicy = NonNullable<NonNullable<AgentPool['spec']['scheduling']>['costOptimization']>;

/** The pool's cost policy when it is enabled: without one, the plugin neither filters nor scores. */
const policyOf = (pool: AgentPool | undefined): CostPolicy | undefined => {
  const policy = pool?.spec.scheduling?.costOptimization;
  return policy?.enabled === true ? policy : undefined;
};

export class CostPlugin implements SchedulerPlugin {
  name(): string {
    return 'cost';
  }

  priority(): number {
    return 280;
  }

  /** Nothing to filter unless the policy rules out spot nodes or caps the price. */
  preFilter(_ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    const policy = policyOf(pool);
    return policy === undefined || (policy.spotEnabled === true && policy.maxCostPerHour === undefined) ? SKIP : undefined;
  }

  filter(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): FilterResult {
    const policy = policyOf(pool);
    if (pool === undefined || policy === undefined) return true;
    const n = nodeFacts(ctx.cluster, node);
    if (policy.spotEnabled !== true) {
      if (isSpot(n)) return unresolvable(`spot node (${n.capacityType.from ?? ''}); the pool does not allow spot (costOptimization.spotEnabled is not true)`);
      // Unreadable is not on-demand: the node may be spot.
      if (n.capacityType.problem !== undefined) return unresolvable(`capacity type unknown (${n.capacityType.problem}); the pool does not allow spot (costOptimization.spotEnabled is not true)`);
    }
    const max = policy.maxCostPerHour;
    if (max === undefined) return true;
    const priced = priceOf(n, config(ctx).priceTable);
    if (priced !== undefined && priced.price > max) {
      return overBudget.get(poolFacts(ctx, pool), priced.price, priced.from) ?? overBudget.set(unresolvable(`costs ${dollars(priced.price)} (${priced.from}), the pool allows at most ${dollars(max)}`));
    }
    return true;
  }

  preScore(_ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return policyOf(pool) === undefined ? SKIP : undefined;
  }

  score(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): number {
    const policy = policyOf(pool);
    if (policy === undefined) return NEUTRAL_SCORE;
    const c = config(ctx);
    const n = nodeFacts(ctx.cluster, node);
    const priced = priceOf(n, c.priceTable);
    if (priced === undefined) return NEUTRAL_SCORE;
    const ref = policy.maxCostPerHour !== undefined && policy.maxCostPerHour > 0 ? policy.maxCostPerHour : c.referenceCostPerHour;
    const score = Math.round((100 * ref) / (ref + priced.price));
    return isSpot(n) && policy.spotEnabled === true ? Math.min(100, score + c.spotBonus) : score;
  }
}
