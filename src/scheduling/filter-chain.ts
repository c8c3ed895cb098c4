/**
 * The filter chain: scheduler plugins in priority order, each looking only at the nodes every
 * plugin before it kept (a node drops out at its first failing plugin). Shadow plugins judge the
 * same nodes but drop none. Stops early once no node is left.
 */
import type { Node, Pod } from '../api/kubernetes.ts';
import type { AgentPool } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import type { ActivePlugin } from '../plugins/plugin-set.ts';
import { PluginPass, type CallOutcome, type ChainRuntime, type RequestBudget } from '../plugins/plugin-pass.ts';
import type { FilterResult, SchedulerContext } from '../plugins/types.ts';

export interface SchedulingInput {
  readonly pod: Pod;
  readonly pool: AgentPool | undefined;
  readonly cluster: ClusterView;
}

export interface NodeRejection {
  readonly plugin: string;
  readonly reason: string;
  readonly unresolvable: boolean;
}

export interface PluginPassSummary {
  readonly plugin: string;
  readonly mode: 'enforce' | 'shadow';
  readonly durationMs: number;
  readonly calls: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Nodes this plugin rejected (or, in shadow mode, would have rejected). */
  readonly rejected: number;
  readonly failure?: string;
}

export interface FilterOutcome {
  readonly kept: Node[];
  readonly rejected: Map<string, NodeRejection>;
  /** What shadow plugins would have rejected, per node. */
  readonly shadowRejected: Map<string, NodeRejection[]>;
  readonly passes: PluginPassSummary[];
}

function normalize(plugin: string, result: FilterResult): NodeRejection | undefined {
  if (result === true) return undefined;
  if (result === false) return { plugin, reason: `rejected by ${plugin}`, unresolvable: false };
  if (typeof result !== 'object' || result === null || typeof result.passed !== 'boolean') {
    throw new TypeError(`filter() returned ${JSON.stringify(result)}; expected a boolean or {passed, reason?, unresolvable?}`);
  }
  if (result.passed) return undefined;
  return { plugin, reason: result.reason ?? `rejected by ${plugin}`, unresolvable: result.unresolvable === true };
}

export function summarizePass(pass: PluginPass<'scheduler', SchedulerContext>, durationMs: number, rejected: number): PluginPassSummary {
  const f = pass.firstFailure;
  return {
    plugin: pass.active.name,
    mode: pass.active.settings.mode,
    durationMs: Math.round(durationMs * 1000) / 1000,
    calls: pass.calls,
    errors: pass.errors,
    timeouts: pass.timeouts,
    rejected,
    ...(f !== undefined && !f.ok ? { failure: `${f.kind}: ${f.error.message}` } : {}),
  };
}

export async function runFilterChain(
  runtime: ChainRuntime,
  plugins: readonly ActivePlugin<'scheduler'>[],
  input: SchedulingInput,
  candidates: readonly Node[],
  budget: RequestBudget,
): Promise<FilterOutcome> {
  let alive: Node[] = [...candidates];
  const rejected = new Map<string, NodeRejection>();
  const shadowRejected = new Map<string, NodeRejection[]>();
  const passes: PluginPassSummary[] = [];
  const { pod, pool } = input;

  for (const active of plugins) {
    const filter = active.plugin.filter;
    if (filter === undefined) continue;
    if (alive.length === 0) break;
    const pass = new PluginPass<'scheduler', SchedulerContext>(runtime, active, 'filter', budget.remainingMs, { cluster: input.cluster });
    const plugin = active.plugin;
    const settled = await pass.callEach(alive, (ctx, node) => filter.call(plugin, ctx, pod, node, pool));
    const next: Node[] = [];
    let count = 0;
    try {
      for (let i = 0; i < alive.length; i++) {
        const node = alive[i] as Node;
        const outcome = settled[i] as CallOutcome<FilterResult>;
        let rejection: NodeRejection | undefined;
        if (outcome.ok) {
          try {
            rejection = normalize(active.name, outcome.value);
          } catch (e: unknown) {
            pass.check(pass.invalidAnswer(e as Error));
          }
        } else {
          pass.check(outcome);
        }
        if (rejection === undefined) next.push(node);
        else {
          count++;
          if (pass.enforcing) rejected.set(node.metadata.name, rejection);
          else {
            const list = shadowRejected.get(node.metadata.name) ?? [];
            list.push(rejection);
            shadowRejected.set(node.metadata.name, list);
          }
        }
      }
    } finally {
      passes.push(summarizePass(pass, pass.end(), count));
    }
    if (pass.enforcing) alive = next;
  }
  return { kept: alive, rejected, shadowRejected, passes };
}
