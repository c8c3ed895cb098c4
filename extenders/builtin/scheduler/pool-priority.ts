/**
 * pool-priority: the preempt verb's say on victims, from the pools' `spec.scheduling.priority`
 * (default 0). A pool's replica may be evicted only for a pod of a pool of strictly higher priority,
 * only while its pool keeps at least `minReplicas` bound, active pods not being deleted, and
 * (`pdbViolations: deny`) only on a node where kube-scheduler counts no PodDisruptionBudget violation. kube-scheduler has
 * already applied PriorityClass rules when it proposes a victim; this only narrows its proposal. A
 * preemptor of no pool is PriorityClass's business alone: only the floor and PDBs guard pools from
 * it. Victims of no pool (or of a pool the extender does not know) follow `nonPoolVictims`.
 */
import {
  definePlugin,
  isActivePod,
  plural,
  resolvePool,
  stateKey,
  type AgentPool,
  type EvictionVerdict,
  type Pod,
  type PoolResolution,
  type SchedulerContext,
} from 'neuronetes';
import { Type } from 'typebox';

export const PoolPriorityConfig = Type.Object(
  {
    /** Victims that belong to no pool: kube-scheduler's own priority rules already chose them. */
    nonPoolVictims: Type.Enum(['allow', 'deny'], { default: 'allow' }),
    /**
     * A node whose victims kube-scheduler counts as violating PodDisruptionBudgets. kube-scheduler
     * only prefers nodes with fewer violations and deletes victims without the Eviction API, so
     * nothing else stops it going through a PDB when every node violates one: `deny` refuses pool
     * replicas there (the count is per node, so a violation by any victim on it counts).
     */
    pdbViolations: Type.Enum(['allow', 'deny'], { default: 'deny' }),
  },
  { additionalProperties: false },
);

const priorityOf = (pool: AgentPool): number => pool.spec.scheduling?.priority ?? 0;

/** The preemptor's pool, resolved once per call. */
const Preemptor = stateKey<PoolResolution>('pool-priority/preemptor');
/**
 * Victims allowed so far in this call, by node then pool. kube-scheduler evicts the victims of the one
 * node it picks, so only victims on the same node add up against a pool's floor.
 */
const Allowed = stateKey<Map<string, Map<string, number>>>('pool-priority/allowed');

/** Being deleted (Terminating): out of service already, whatever kube-scheduler proposes. */
const leaving = (p: Pod): boolean => (p.metadata.deletionTimestamp ?? null) !== null;

/** The pool's bound, active replicas: those still serving, and those already being deleted. */
function replicasOf(ctx: SchedulerContext, pool: AgentPool): { running: number; leaving: number } {
  const bound = ctx.cluster
    .podsOfPool(pool.metadata.namespace ?? 'default', pool.metadata.name)
    .filter((p) => (p.spec?.nodeName ?? '') !== '' && isActivePod(p));
  const gone = bound.filter(leaving).length;
  return { running: bound.length - gone, leaving: gone };
}

export const poolPriorityPlugin = definePlugin({
  type: 'scheduler',
  name: 'pool-priority',
  config: PoolPriorityConfig,
  create: (config) => ({
    allowEviction(ctx, pod, victim, node, proposal): EvictionVerdict {
      const target = resolvePool(victim, ctx.cluster);
      if (target.status !== 'found') {
        const what = target.status === 'none' ? 'belongs to no pool' : `belongs to ${target.ref}, a pool the extender does not know`;
        return config.nonPoolVictims === 'allow' ? { allowed: true } : { allowed: false, reason: `${what} (nonPoolVictims: deny)` };
      }
      const victimPool = target.pool;
      const preemptor = ctx.state.readOrCompute(Preemptor, () => resolvePool(pod, ctx.cluster));
      if (preemptor.status === 'found' && priorityOf(preemptor.pool) <= priorityOf(victimPool)) {
        return {
          allowed: false,
          reason: `pool ${target.ref} (priority ${priorityOf(victimPool)}) is not below ${preemptor.ref} (priority ${priorityOf(preemptor.pool)})`,
        };
      }
      if (config.pdbViolations === 'deny' && proposal.pdbViolations > 0) {
        const count = plural(proposal.pdbViolations, 'PodDisruptionBudget violation');
        return { allowed: false, reason: `kube-scheduler counts ${count} on ${node.metadata.name} (pdbViolations: deny)` };
      }
      // A victim kube-scheduler deleted earlier (still in its grace period) costs the pool nothing more.
      if (leaving(victim)) return { allowed: true };
      const byNode = ctx.state.readOrCompute(Allowed, () => new Map());
      const onNode = byNode.get(node.metadata.name) ?? new Map<string, number>();
      const key = target.ref;
      const already = onNode.get(key) ?? 0;
      const replicas = replicasOf(ctx, victimPool);
      const min = victimPool.spec.minReplicas;
      if (replicas.running - already - 1 < min) {
        const others = already > 0 ? `, ${already} already let go on ${node.metadata.name}` : '';
        const deleting = replicas.leaving > 0 ? `, ${replicas.leaving} being deleted` : '';
        return { allowed: false, reason: `pool ${key} would drop below minReplicas ${min} (${replicas.running} running${deleting}${others})` };
      }
      onNode.set(key, already + 1);
      byNode.set(node.metadata.name, onNode);
      return { allowed: true };
    },
  }),
});
