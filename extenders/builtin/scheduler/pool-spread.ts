/**
 * pool-spread: spreads one pool's replicas over nodes and zones (`topology.kubernetes.io/zone`) so a
 * node or zone loss never takes the whole pool. With n of the pool's t bound replicas on the node and
 * z in its zone, the score is 100 × (1 − (2n/3 + z/3) / t): losing a node is likelier than losing a
 * zone, so the node counts double. A pool with nothing bound yet scores 100 everywhere.
 */
import { definePlugin, isActivePod, SKIP, stateKey, type AgentPool, type ClusterView, type SchedulerContext } from 'neuronetes';
import { poolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE } from './verdicts.ts';

interface Placement {
  total: number;
  readonly byNode: Map<string, number>;
  readonly byZone: Map<string, number>;
}

/** Where each pool's active, bound replicas run: `namespace/pool` → counts. */
function indexPlacement(view: ClusterView): ReadonlyMap<string, Placement> {
  const facts = view.allNodeFacts();
  const index = new Map<string, Placement>();
  for (const pool of view.pools()) {
    const namespace = pool.metadata.namespace ?? 'default';
    const placement: Placement = { total: 0, byNode: new Map(), byZone: new Map() };
    for (const pod of view.podsOfPool(namespace, pool.metadata.name)) {
      const node = pod.spec?.nodeName;
      if (node === undefined || node === '' || !isActivePod(pod)) continue;
      placement.total++;
      placement.byNode.set(node, (placement.byNode.get(node) ?? 0) + 1);
      const zone = facts.get(node)?.zone;
      if (zone !== undefined) placement.byZone.set(zone, (placement.byZone.get(zone) ?? 0) + 1);
    }
    index.set(`${namespace}/${pool.metadata.name}`, placement);
  }
  return index;
}

/** The pool's placement, looked up once per call: undefined for a pool the picture does not hold. */
const CallPlacement = stateKey<{ readonly placement: Placement | undefined }>('pool-spread/placement');

const placementOf = (ctx: SchedulerContext, pool: AgentPool): Placement | undefined =>
  ctx.state.readOrCompute(CallPlacement, () => ({ placement: ctx.cluster.memo('builtin/pool-spread', indexPlacement).get(poolFacts(ctx, pool).key) }))
    .placement;

export const poolSpreadPlugin = definePlugin({
  type: 'scheduler',
  name: 'pool-spread',
  defaults: { weight: 5 },
  create: () => ({
    /** A pod of no pool has no replicas to spread. */
    preScore(_ctx, _pod, pool) {
      return pool === undefined ? SKIP : undefined;
    },

    score(ctx, _pod, node, pool) {
      if (pool === undefined) return NEUTRAL_SCORE;
      const placement = placementOf(ctx, pool);
      if (placement === undefined || placement.total === 0) return 100;
      const onNode = placement.byNode.get(node.metadata.name) ?? 0;
      const zone = ctx.cluster.nodeFacts(node).zone;
      // A node without a zone is a zone of its own.
      const inZone = zone === undefined ? onNode : (placement.byZone.get(zone) ?? 0);
      return Math.round(100 * (1 - ((2 * onNode) / 3 + inZone / 3) / placement.total));
    },
  }),
});
