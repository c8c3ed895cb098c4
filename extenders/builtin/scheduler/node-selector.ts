/**
 * node-selector: the pool's `scheduling.nodeSelector` must match the node's labels exactly (a pod's
 * own nodeSelector is kube-scheduler's business). A mismatch is unresolvable.
 */
import type { Node, Pod } from '../../../src/api/kubernetes.ts';
import type { AgentPool } from '../../../src/api/neuronetes.ts';
import { SKIP, type FilterResult, type PassPlan, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { poolFacts } from './pool-facts.ts';
import { unresolvable, VerdictCache } from './verdicts.ts';

const mismatch = new VerdictCache();

export class NodeSelectorPlugin implements SchedulerPlugin {
  name(): string {
    return 'node-selector';
  }

  /** Cheapest and hardest of the filters: first. */
  priority(): number {
    return 300;
  }

  preFilter(ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return pool === undefined || poolFacts(ctx, pool).nodeSelector.length === 0 ? SKIP : undefined;
  }

  filter(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): FilterResult {
    if (pool === undefined) return true;
    const labels = node.metadata.labels;
    const p = poolFacts(ctx, pool);
    for (const [key, wanted] of p.nodeSelector) {
      const actual = labels?.[key];
      if (actual !== wanted) {
        return mismatch.get(p, key, actual) ?? mismatch.set(unresolvable(`pool's nodeSelector wants ${key}=${wanted}; node ${actual === undefined ? `has no ${key} label` : `has ${key}=${actual}`}`));
      }
    }
    return true;
  }
}
