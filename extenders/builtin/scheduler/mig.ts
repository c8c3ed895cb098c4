/**
 * mig: places pods that need MIG slices: one slice of the pool's `migProfile` per replica, and every
 * `nvidia.com/mig-<profile>` the pod requests itself (pool or not: such a pod is a GPU pod whatever
 * its pool). A node's slices are node-facts' (`neuronetes.io/mig-config`, allocatable
 * nvidia.com/mig-*, GFD's mig-<profile>.count labels, the single strategy); those requested by active
 * pods bound there are in use. A node that is not MIG-capable or has no slice of the profile is
 * unresolvable; slices in use are a shortfall.
 */
import type { Node, Pod } from '../../../src/api/kubernetes.ts';
import type { AgentPool } from '../../../src/api/neuronetes.ts';
import { SKIP, type FilterResult, type FilterVerdict, type PassPlan, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { MIG_RESOURCE_PREFIX, nodeFacts, podMigRequests, type NodeFacts } from './node-facts.ts';
import { labelNames, Sources } from './node-labels.ts';
import { poolFacts } from './pool-facts.ts';
import { shortfall, unresolvable, VerdictCache } from './verdicts.ts';

const notCapable = new VerdictCache();

/** Where a node's slices could have come from, for "says nothing of its slices". */
const SLICE_SOURCES = `${labelNames(Sources.migLayout)} label, allocatable ${MIG_RESOURCE_PREFIX}<profile> or ${MIG_RESOURCE_PREFIX}<profile>.count label`;

/** The pod and pool last asked about, and their slices: a pass asks once per node about the same pod. */
let last: { pod: Pod; pool: AgentPool | undefined; needs: ReadonlyMap<string, number> } | undefined;

/** Slices per profile the pod needs: its own requests, and one of the pool's `migProfile` if it asks none of that. */
function needsOf(ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined): ReadonlyMap<string, number> {
  if (last?.pod === pod && last.pool === pool) return last.needs;
  const own = podMigRequests(pod);
  const profile = pool === undefined ? undefined : poolFacts(ctx, pool).migProfile;
  const needs = profile === undefined || own.has(profile) ? own : new Map([...own, [profile, 1]]);
  last = { pod, pool, needs };
  return needs;
}

function sliceVerdict(ctx: SchedulerContext, pool: AgentPool | undefined, n: NodeFacts, profile: string, count: number): FilterResult {
  const what = `needs ${count === 1 ? 'a' : count} ${profile} MIG slice${count === 1 ? '' : 's'}`;
  const capable = n.migCapable;
  if (capable.value === false) {
    const verdict = (): FilterVerdict => unresolvable(`${what}; node is not MIG-capable (${capable.from ?? ''})`);
    // Cached per pool: a pod of no pool has nothing to key the cache on.
    if (pool === undefined) return verdict();
    return notCapable.get(poolFacts(ctx, pool), `${profile}:${count}`, capable.from) ?? notCapable.set(verdict());
  }
  const slices = n.migSlices;
  if (slices.problem !== undefined) return unresolvable(`${what}; ${slices.problem}`);
  if (slices.value === undefined) {
    if (capable.value === true) return unresolvable(`${what}; node is MIG-capable (${capable.from ?? ''}) but says nothing of its slices (no ${SLICE_SOURCES})`);
    return unresolvable(`${what}; node is not MIG-capable (${capable.problem ?? `no ${labelNames(Sources.migCapable)} label`}, and no ${SLICE_SOURCES})`);
  }
  const total = slices.value.get(profile) ?? 0;
  if (total === 0) return unresolvable(`${what}; node's MIG slices (${[...slices.value].map(([p, c]) => `${p}:${c}`).join(',')}) include none`);
  const used = n.migUsed.get(profile) ?? 0;
  if (total - used < count) return shortfall(`${what}; ${used >= total ? `all ${total}` : `${used} of ${total}`} on the node are in use`);
  return true;
}

export class MigPlugin implements SchedulerPlugin {
  name(): string {
    return 'mig';
  }

  priority(): number {
    return 240;
  }

  preFilter(ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined): PassPlan {
    return needsOf(ctx, pod, pool).size === 0 ? SKIP : undefined;
  }

  filter(ctx: SchedulerContext, pod: Pod, node: Node, pool: AgentPool | undefined): FilterResult {
    const needs = needsOf(ctx, pod, pool);
    if (needs.size === 0) return true;
    const n = nodeFacts(ctx.cluster, node);
    for (const [profile, count] of needs) {
      const verdict = sliceVerdict(ctx, pool, n, profile, count);
      if (verdict !== true) return verdict;
    }
    return true;
  }
}
