/**
 * What the built-in plugins see of nodes, in words: one node's facts with the label each came from
 * (GET /debug/nodes/<name>), and the census of GPU nodes logged at start-up and on cluster changes,
 * so a cluster whose labels NeuroNetes cannot read says so before any pod waits on it.
 */
import { FactSources, labelNames, unknownBecause, type ClusterView, type Fact, type Node, type NodeFacts, type PluginContext } from 'neuronetes';
import { priceOf, type CostConfig } from './cost.ts';
import { interconnectOf, interconnectTable, type TopologyConfig } from './topology.ts';

export interface FactReport {
  readonly value: unknown;
  /** The label, resource or table entry it came from; null when nothing says. */
  readonly from: string | null;
  /** Why the value is unknown (null value). */
  readonly unknown?: string;
}

function report<T>(fact: Fact<T>, unknownWhy: string, show: (v: T) => unknown = (v) => v): FactReport {
  if (fact.value !== undefined) return { value: show(fact.value), from: fact.from ?? null };
  return { value: null, from: fact.from ?? null, unknown: fact.problem ?? unknownWhy };
}

/** The config a built-in plugin runs with, by name (`{}` when it is not registered). */
export type PluginConfigs = (plugin: string) => PluginContext;

/** A node's facts as the plugins see them, with where each came from. */
export function describeNode(view: ClusterView, node: Node, configs: PluginConfigs): Record<string, unknown> {
  const n = view.nodeFacts(node);
  // Checked against each plugin's schema when the plugin set was built; `{}` when it is not registered.
  const topology = configs('topology').config as Partial<TopologyConfig>;
  const cost = configs('cost').config as Partial<CostConfig>;
  const link = interconnectOf(n, interconnectTable(topology.instanceInterconnects ?? {}));
  const price = priceOf(n, cost.priceTable ?? {});
  const slices: Record<string, { total: number; used: number; free: number }> = {};
  for (const [profile, total] of n.migSlices.value ?? []) {
    const used = n.migUsed.get(profile) ?? 0;
    slices[profile] = { total, used, free: Math.max(0, total - used) };
  }
  return {
    name: n.name,
    gpu: {
      type: report(n.gpuType, unknownBecause(n.gpuType, FactSources.gpuType)),
      memoryBytes: report(n.gpuMemory, unknownBecause(n.gpuMemory, FactSources.gpuMemory)),
      count: report(n.gpuCount, unknownBecause(n.gpuCount, FactSources.gpuCount)),
      family: report(n.gpuFamily, unknownBecause(n.gpuFamily, FactSources.gpuFamily)),
      allocatable:
        n.allocatableProblem === undefined
          ? { value: n.allocatableGpus, from: 'allocatable nvidia.com/gpu' }
          : { value: null, from: 'allocatable nvidia.com/gpu', unknown: n.allocatableProblem },
      used: n.usedGpus,
      free: n.freeGpus,
      interconnect: report(
        link,
        `${unknownBecause(n.interconnect, FactSources.interconnect)}, and instance type ${n.instanceType.value ?? '(none)'} is not in the interconnect table`,
      ),
      nvlinkDomain: report(n.nvlinkDomain, unknownBecause(n.nvlinkDomain, FactSources.nvlinkDomain)),
      bandwidthBytes: report(n.bandwidth, unknownBecause(n.bandwidth, FactSources.bandwidth)),
    },
    mig: {
      capable: report(n.migCapable, unknownBecause(n.migCapable, FactSources.migCapable)),
      strategy: report(n.migStrategy, unknownBecause(n.migStrategy, FactSources.migStrategy)),
      config: report(n.migConfigName, unknownBecause(n.migConfigName, FactSources.migConfigName)),
      slices: report(
        n.migSlices,
        `no ${labelNames(FactSources.migLayout)} label, allocatable nvidia.com/mig-<profile>, nvidia.com/mig-<profile>.count label or single-strategy product`,
        () => slices,
      ),
    },
    capacityType:
      n.capacityType.value === undefined && n.capacityType.problem === undefined
        ? { value: 'on-demand', from: null, assumed: `no ${labelNames(FactSources.capacityType)} label` }
        : report(n.capacityType, ''),
    pricePerHour:
      price === undefined
        ? {
            value: null,
            from: n.costPerHour.from ?? null,
            unknown: n.costPerHour.problem ?? `no ${labelNames(FactSources.costPerHour)} label, and no priceTable entry for the instance type`,
          }
        : { value: price.price, from: price.from },
    instanceType: report(n.instanceType, unknownBecause(n.instanceType, FactSources.instanceType)),
    zone: n.zone ?? null,
    cachedModels: [...n.cachedModels],
  };
}

/** Why a node with GPUs cannot be fully placed on: its unknown or unreadable GPU facts. */
function unknownFacts(n: NodeFacts): string[] {
  const why: string[] = [];
  if (n.gpuType.value === undefined) why.push(`GPU type unknown: ${unknownBecause(n.gpuType, FactSources.gpuType)}`);
  if (n.gpuMemory.value === undefined) why.push(`GPU memory unknown: ${unknownBecause(n.gpuMemory, FactSources.gpuMemory)}`);
  for (const problem of [
    n.allocatableProblem,
    n.migSlices.problem,
    n.migCapable.problem,
    n.interconnect.problem,
    n.capacityType.problem,
    n.costPerHour.problem,
  ]) {
    if (problem !== undefined) why.push(problem);
  }
  return why;
}

export interface GpuCensus {
  /** Nodes whose GPU facts are all known, per GPU type. */
  readonly recognised: Readonly<Record<string, number>>;
  /** Nodes with GPUs but unknown facts, and why. */
  readonly unknown: readonly { readonly node: string; readonly why: string }[];
}

export function gpuCensus(view: ClusterView): GpuCensus {
  const recognised: Record<string, number> = {};
  const unknown: { node: string; why: string }[] = [];
  for (const n of view.allNodeFacts().values()) {
    if (!n.hasGpus) continue;
    const why = unknownFacts(n);
    if (why.length > 0) unknown.push({ node: n.name, why: why.join('; ') });
    else recognised[n.gpuType.value as string] = (recognised[n.gpuType.value as string] ?? 0) + 1;
  }
  unknown.sort((a, b) => a.node.localeCompare(b.node));
  return { recognised, unknown };
}

const NAMES_IN_LINE = 5;

/** "GPU nodes: 3 recognised (NVIDIA-A100-SXM4-80GB: 2, NVIDIA-L4: 1); 1 with GPUs but unknown facts: gpu-x (…)". */
export function censusLine(c: GpuCensus): string {
  const types = Object.entries(c.recognised).sort(([a], [b]) => a.localeCompare(b));
  const total = types.reduce((s, [, n]) => s + n, 0);
  let line = `GPU nodes: ${total} recognised${types.length > 0 ? ` (${types.map(([t, n]) => `${t}: ${n}`).join(', ')})` : ''}`;
  if (c.unknown.length > 0) {
    const shown = c.unknown.slice(0, NAMES_IN_LINE).map((u) => `${u.node} (${u.why})`);
    const more = c.unknown.length - shown.length;
    line += `; ${c.unknown.length} with GPUs but unknown facts: ${shown.join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
  }
  return line;
}
