/**
 * cost: for pools with `scheduling.costOptimization.enabled`. Filters spot nodes (any cloud's
 * capacity-type label, see FactSources) unless the pool allows spot, and nodes above `maxCostPerHour`.
 * A node's price is its `neuronetes.io/cost-per-hour` label, else the config's `priceTable` entry for
 * its instance type; a node with neither passes (its price is unknown, not high). Scores cheaper higher, 100 × ref / (ref + price) with ref the pool's
 * `maxCostPerHour` or the config's `referenceCostPerHour`, plus `spotBonus` for allowed spot nodes.
 * With `sloHeadroomMs`, the score prefers cheaper nodes only while the pool's latency (its
 * `status.currentMetrics`, written by the actuator) is at least that far below its target; closer,
 * it sits the call out so the performance scores decide. The filter's limits hold either way.
 */
import { definePlugin, Labels, metricKey, parseMetricTarget, SKIP, stateKey, type AgentPool, type NodeFacts, type PassPlan } from 'neuronetes';
import { Type, type Static } from 'typebox';
import { NEUTRAL_SCORE, unresolvable, VerdictCache } from './verdicts.ts';

export const CostConfig = Type.Object(
  {
    /** Instance type → $/h, for nodes without a cost-per-hour label. */
    priceTable: Type.Record(Type.String(), Type.Number({ minimum: 0 }), { default: {} }),
    referenceCostPerHour: Type.Number({ exclusiveMinimum: 0, default: 10 }),
    spotBonus: Type.Number({ minimum: 0, maximum: 100, default: 10 }),
    /** Pool metrics read as latencies for `sloHeadroomMs` (values in seconds, targets durations). */
    latencyMetrics: Type.Array(Type.String({ minLength: 1 }), { default: ['ttft-p95'] }),
    /** A latency reading older than this is no reading (the actuator rewrites them every round). */
    latencyMaxAgeSeconds: Type.Integer({ minimum: 1, default: 300 }),
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

interface Headroom {
  readonly type: string;
  readonly currentMs: number;
  readonly targetMs: number;
}

/** A latency target in seconds; undefined when it does not parse (the autoscaler reports that). */
function targetSeconds(type: string, target: string): number | undefined {
  try {
    return parseMetricTarget(type, target, true);
  } catch {
    return undefined;
  }
}

/** The pool's tightest fresh latency reading against its target; undefined when it has none. */
export function latencyHeadroom(pool: AgentPool, config: CostConfig, now: number): Headroom | undefined {
  const latency = new Set(config.latencyMetrics.map(metricKey));
  let tightest: Headroom | undefined;
  for (const m of pool.status?.currentMetrics ?? []) {
    const type = metricKey(m.type);
    // Undated or old readings say nothing about now (NaN fails the comparison).
    const fresh = now - Date.parse(m.timestamp ?? '') <= config.latencyMaxAgeSeconds * 1000;
    const current = m.current.trim() === '' ? Number.NaN : Number(m.current);
    const target = targetSeconds(type, m.target);
    if (!latency.has(type) || !fresh || !Number.isFinite(current) || target === undefined) continue;
    const reading = { type, currentMs: current * 1000, targetMs: target * 1000 };
    if (tightest === undefined || reading.targetMs - reading.currentMs < tightest.targetMs - tightest.currentMs) tightest = reading;
  }
  return tightest;
}

const ms = (n: number): string => `${Math.round(n)}ms`;

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

    preScore(ctx, _pod, pool): PassPlan {
      const policy = policyOf(pool);
      if (pool === undefined || policy === undefined) return SKIP;
      const wanted = policy.sloHeadroomMs;
      if (wanted === undefined) return undefined;
      const h = latencyHeadroom(pool, config, Date.now());
      if (h === undefined) {
        ctx.note?.(
          `no fresh latency reading (${config.latencyMetrics.join(', ')}) in the pool's status: preferring cheaper nodes, sloHeadroomMs ${wanted} unchecked`,
        );
        return undefined;
      }
      const headroom = h.targetMs - h.currentMs;
      const reading = `${h.type} ${ms(h.currentMs)} of a ${ms(h.targetMs)} target leaves ${ms(headroom)}`;
      if (headroom < wanted) {
        ctx.note?.(`${reading}, under sloHeadroomMs ${wanted}: cost steps aside, performance decides`);
        return SKIP;
      }
      ctx.note?.(`${reading}, at least sloHeadroomMs ${wanted}: preferring cheaper nodes`);
      return undefined;
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
