/**
 * mig: places pods that need MIG slices: one slice of the pool's `migProfile` per replica, and every
 * `nvidia.com/mig-<profile>` the pod requests itself (pool or not: such a pod is a GPU pod whatever
 * its pool). A node's slices are its node facts' (`neuronetes.io/mig-config`, allocatable
 * nvidia.com/mig-*, GFD's mig-<profile>.count labels, the single strategy); those requested by active
 * pods bound there are in use. A node that is not MIG-capable or has no slice of the profile is
 * unresolvable; slices in use are a shortfall.
 */
import {
  definePlugin,
  FactSources,
  labelNames,
  MIG_RESOURCE_PREFIX,
  podMigRequests,
  SKIP,
  stateKey,
  type AgentPool,
  type FilterResult,
  type NodeFacts,
  type Pod,
  type SchedulerContext,
} from 'neuronetes';
import { poolFacts } from './pool-facts.ts';
import { shortfall, unresolvable, VerdictCache } from './verdicts.ts';

/** Where a node's slices could have come from, for "says nothing of its slices". */
const SLICE_SOURCES = `${labelNames(FactSources.migLayout)} label, allocatable ${MIG_RESOURCE_PREFIX}<profile> or ${MIG_RESOURCE_PREFIX}<profile>.count label`;

/** The pod's slices per profile, and the verdicts on nodes that are not MIG-capable: the same for every node of a call. */
interface MigCall {
  readonly needs: ReadonlyMap<string, number>;
  readonly notCapable: VerdictCache;
}
const Call = stateKey<MigCall>('mig/call');

/** Slices per profile the pod needs: its own requests, and one of the pool's `migProfile` if it asks none of that. */
function callOf(ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined): MigCall {
  return ctx.state.readOrCompute(Call, () => {
    const own = podMigRequests(pod);
    const profile = pool === undefined ? undefined : poolFacts(ctx, pool).migProfile;
    return { needs: profile === undefined || own.has(profile) ? own : new Map([...own, [profile, 1]]), notCapable: new VerdictCache() };
  });
}

function sliceVerdict(call: MigCall, n: NodeFacts, profile: string, count: number): FilterResult {
  const what = `needs ${count === 1 ? 'a' : count} ${profile} MIG slice${count === 1 ? '' : 's'}`;
  const capable = n.migCapable;
  if (capable.value === false) {
    return call.notCapable.get(profile, capable.from) ?? call.notCapable.set(unresolvable(`${what}; node is not MIG-capable (${capable.from ?? ''})`));
  }
  const slices = n.migSlices;
  if (slices.problem !== undefined) return unresolvable(`${what}; ${slices.problem}`);
  if (slices.value === undefined) {
    if (capable.value === true)
      return unresolvable(`${what}; node is MIG-capable (${capable.from ?? ''}) but says nothing of its slices (no ${SLICE_SOURCES})`);
    return unresolvable(`${what}; node is not MIG-capable (${capable.problem ?? `no ${labelNames(FactSources.migCapable)} label`}, and no ${SLICE_SOURCES})`);
  }
  const total = slices.value.get(profile) ?? 0;
  if (total === 0) return unresolvable(`${what}; node's MIG slices (${[...slices.value].map(([p, c]) => `${p}:${c}`).join(',')}) include none`);
  const used = n.migUsed.get(profile) ?? 0;
  if (total - used < count) return shortfall(`${what}; ${used >= total ? `all ${total}` : `${used} of ${total}`} on the node are in use`);
  return true;
}

export const migPlugin = definePlugin({
  type: 'scheduler',
  name: 'mig',
  priority: 240,
  create: () => ({
    preFilter(ctx, pod, pool) {
      return callOf(ctx, pod, pool).needs.size === 0 ? SKIP : undefined;
    },

    filter(ctx, pod, node, pool) {
      const call = callOf(ctx, pod, pool);
      if (call.needs.size === 0) return true;
      const n = ctx.cluster.nodeFacts(node);
      for (const [profile, count] of call.needs) {
        const verdict = sliceVerdict(call, n, profile, count);
        if (verdict !== true) return verdict;
      }
      return true;
    },
  }),
});
