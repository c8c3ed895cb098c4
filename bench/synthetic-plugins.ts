/**
 * Scheduler plugins written the way the plugin guide recommends, so the benchmark exercises the chain
 * runner with realistic per-node work whatever built-ins are installed: a filter that reads labels,
 * and scorers that do small arithmetic on per-node facts precomputed once per cluster picture
 * (ClusterView.memo). Their names start with `bench-` so they never clash with real plugins.
 */
import { GPU_RESOURCE, type Node, type Pod } from '../src/api/kubernetes.ts';
import { Labels, type AgentPool } from '../src/api/neuronetes.ts';
import type { ClusterView } from '../src/cluster/cluster-view.ts';
import type { FilterResult, SchedulerContext, SchedulerPlugin } from '../src/plugins/types.ts';
import { tryParseQuantity } from '../src/util/quantity.ts';

interface BenchNodeFacts {
  readonly gpuType: string | undefined;
  readonly allocatable: number;
  readonly free: number;
  readonly costPerHour: number | undefined;
}

function gpuRequest(pod: Pod): number {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) sum += tryParseQuantity(c.resources?.requests?.[GPU_RESOURCE]) ?? 0;
  return sum;
}

function factsByNode(view: ClusterView): ReadonlyMap<string, BenchNodeFacts> {
  return view.memo('bench/node-facts', (v) => {
    const out = new Map<string, BenchNodeFacts>();
    for (const node of v.nodes()) {
      const labels = node.metadata.labels ?? {};
      const allocatable = tryParseQuantity(node.status?.allocatable?.[GPU_RESOURCE]) ?? 0;
      let used = 0;
      for (const pod of v.podsOnNode(node.metadata.name)) used += gpuRequest(pod);
      out.set(node.metadata.name, {
        gpuType: labels[Labels.gpuType],
        allocatable,
        free: Math.max(0, allocatable - used),
        costPerHour: tryParseQuantity(labels[Labels.costPerHour]),
      });
    }
    return out;
  });
}

/** Keeps nodes with the pool's GPU type (a hard mismatch otherwise) and enough free GPUs. */
export class BenchGpuFilter implements SchedulerPlugin {
  name(): string {
    return 'bench-gpu-filter';
  }
  filter(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): FilterResult {
    const need = pool?.spec.gpuRequirements;
    if (need === undefined || need.count === 0) return true;
    const wanted = need.type;
    if (wanted !== undefined && node.metadata.labels?.[Labels.gpuType] !== wanted) {
      return { passed: false, unresolvable: true, reason: `needs ${wanted} GPUs` };
    }
    const facts = factsByNode(ctx.cluster).get(node.metadata.name);
    if (facts === undefined || facts.free < need.count) return { passed: false, reason: `needs ${need.count} free GPUs, node has ${facts?.free ?? 0}` };
    return true;
  }
}

/** Prefers nodes that stay fuller after placement (bin packing), from the memoised GPU accounting. */
export class BenchPackScorer implements SchedulerPlugin {
  name(): string {
    return 'bench-pack-scorer';
  }
  score(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): number {
    const facts = factsByNode(ctx.cluster).get(node.metadata.name);
    if (facts === undefined || facts.allocatable === 0) return 0;
    const need = pool?.spec.gpuRequirements?.count ?? 0;
    return 100 - (100 * Math.max(0, facts.free - need)) / facts.allocatable;
  }
}

/** Cheaper nodes score higher: 100 at no cost, falling towards 0 at $100/h. */
export class BenchCostScorer implements SchedulerPlugin {
  name(): string {
    return 'bench-cost-scorer';
  }
  score(ctx: SchedulerContext, _pod: Pod, node: Node): number {
    const cost = factsByNode(ctx.cluster).get(node.metadata.name)?.costPerHour;
    return cost === undefined ? 50 : Math.max(0, 100 - cost);
  }
}

export function syntheticPlugins(): SchedulerPlugin[] {
  return [new BenchGpuFilter(), new BenchPackScorer(), new BenchCostScorer()];
}
