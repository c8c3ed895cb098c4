/**
 * mig: a pool with a `migProfile` needs a node whose `neuronetes.io/mig-config` still has a free slice
 * of that profile (slices requested by active pods bound there are in use), one slice per replica.
 * Nodes that are not MIG-capable or have no such slices are unresolvable; slices in use a shortfall.
 */
import type { Node, Pod } from '../../../src/api/kubernetes.ts';
import { Labels, type AgentPool } from '../../../src/api/neuronetes.ts';
import { SKIP, type FilterResult, type PassPlan, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { nodeFacts } from './node-facts.ts';
import { poolFacts } from './pool-facts.ts';
import { shortfall, unresolvable, VerdictCache } from './verdicts.ts';

const notCapable = new VerdictCache();

export class MigPlugin implements SchedulerPlugin {
  name(): string {
    return 'mig';
  }

  priority(): number {
    return 240;
  }

  preFilter(ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return pool === undefined || poolFacts(ctx, pool).migProfile === undefined ? SKIP : undefined;
  }

  filter(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): FilterResult {
    if (pool === undefined) return true;
    const p = poolFacts(ctx, pool);
    const profile = p.migProfile;
    if (profile === undefined) return true;
    const n = nodeFacts(ctx.cluster, node);
    if (!n.migCapable) return notCapable.get(p) ?? notCapable.set(unresolvable(`needs a ${profile} MIG slice; node is not MIG-capable (${Labels.migCapable} is not "true")`));
    if (n.migConfigText === undefined) return unresolvable(`needs a ${profile} MIG slice; node is MIG-capable but has no ${Labels.migConfig} label`);
    if (n.migSlices === undefined) return unresolvable(`needs a ${profile} MIG slice; mig-config label '${n.migConfigText}' is not profile:count,…`);
    const total = n.migSlices.get(profile) ?? 0;
    if (total === 0) return unresolvable(`needs a ${profile} MIG slice; node's MIG layout (${n.migConfigText}) has none`);
    const used = n.migUsed.get(profile) ?? 0;
    if (used >= total) return shortfall(`needs a ${profile} MIG slice; all ${total} on the node are in use`);
    return true;
  }
}
