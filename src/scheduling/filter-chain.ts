/**
 * The filter chain: scheduler plugins in priority order, each looking only at the nodes every
 * plugin before it kept (a node drops out at its first failing plugin). Shadow plugins judge the
 * same nodes but drop none. Stops early once no node is left.
 */
import type { Node, Pod } from '../api/kubernetes.ts';
import type { AgentPool } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import type { ActivePlugin } from '../plugins/plugin-set.ts';
import { PluginPass, type ChainRuntime, type RequestBudget } from '../plugins/plugin-pass.ts';
import { SKIP, type FilterResult, type FilterVerdict, type MaybePromise, type PassPlan, type SchedulerContext } from '../plugins/types.ts';
import { NOT_REJECTED } from './filter-reply.ts';

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

/**
 * One distinct way nodes were rejected. A 5,000-node call rejects thousands of nodes for a handful
 * of reasons, so nodes point at a shared entry instead of each carrying its own strings: the wire
 * reply then repeats one string per reason, and the trace holds an index per node.
 */
export interface Rejection extends NodeRejection {
  /** What kube-scheduler is told: `plugin: reason`. */
  readonly wire: string;
  /** Nodes rejected this way. */
  count: number;
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
  /** Its preFilter or preScore said SKIP (or failed under Ignore): it was asked about no node. */
  readonly skipped?: true;
  readonly failure?: string;
}

export interface FilterOutcome {
  /** The candidates every enforcing plugin kept, in the order given. */
  readonly kept: Node[];
  /** Per candidate, in the order given: its index in `rejections`, or -1 where it was kept. */
  readonly rejectedAs: Int32Array;
  readonly rejections: Rejection[];
  /** What shadow plugins would have rejected, by candidate index. */
  readonly shadowRejected: Map<number, NodeRejection[]>;
  readonly passes: PluginPassSummary[];
}


/** Interns one pass's rejections: the same (reason, resolvability) gets the same entry. */
class RejectionTable {
  readonly #entries: Rejection[];
  readonly #plugin: string;
  readonly #byReason = [new Map<string, number>(), new Map<string, number>()] as const;
  /** Plugins that hand out the same verdict object for the same reason are known by identity. */
  readonly #byVerdict = new Map<FilterVerdict, number>();

  constructor(entries: Rejection[], plugin: string) {
    this.#entries = entries;
    this.#plugin = plugin;
  }

  intern(reason: string, unresolvable: boolean): number {
    const seen = this.#byReason[unresolvable ? 1 : 0];
    let index = seen.get(reason);
    if (index === undefined) {
      index = this.#entries.push({ plugin: this.#plugin, reason, unresolvable, wire: `${this.#plugin}: ${reason}`, count: 0 }) - 1;
      seen.set(reason, index);
    }
    (this.#entries[index] as Rejection).count++;
    return index;
  }

  /** The entry a verdict object was interned as, counted once more; undefined if not seen. */
  known(verdict: FilterVerdict): number | undefined {
    const index = this.#byVerdict.get(verdict);
    if (index !== undefined) (this.#entries[index] as Rejection).count++;
    return index;
  }

  internVerdict(verdict: FilterVerdict, reason: string): number {
    const index = this.intern(reason, verdict.unresolvable === true);
    this.#byVerdict.set(verdict, index);
    return index;
  }

  entry(index: number): Rejection {
    return this.#entries[index] as Rejection;
  }
}

/** A filter answer as a rejection entry, NOT_REJECTED when it passed; throws on an answer of the wrong shape. */
function judge(table: RejectionTable, plugin: string, result: FilterResult): number {
  if (result === true) return NOT_REJECTED;
  if (result === false) return table.intern(`rejected by ${plugin}`, false);
  if (typeof result !== 'object' || result === null || typeof result.passed !== 'boolean') {
    throw new TypeError(`filter() returned ${JSON.stringify(result)}; expected a boolean or {passed, reason?, unresolvable?}`);
  }
  if (result.passed) return NOT_REJECTED;
  return table.known(result) ?? table.internVerdict(result, result.reason ?? `rejected by ${plugin}`);
}

export function summarizePass(pass: PluginPass<'scheduler', SchedulerContext>, durationMs: number, rejected: number, skipped = false): PluginPassSummary {
  const f = pass.firstFailure;
  return {
    plugin: pass.active.name,
    mode: pass.active.settings.mode,
    durationMs: Math.round(durationMs * 1000) / 1000,
    calls: pass.calls,
    errors: pass.errors,
    timeouts: pass.timeouts,
    rejected,
    ...(skipped ? { skipped: true } : {}),
    ...(f !== undefined ? { failure: `${f.kind}: ${f.error.message}` } : {}),
  };
}

type PrePass = (ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined) => MaybePromise<PassPlan>;

/**
 * Asks a plugin's preFilter or preScore, once per pass: true when the plugin sits this call out. A
 * hook that throws, times out or answers anything but SKIP or nothing is the plugin's error, handled
 * by its failurePolicy; under Ignore all its answers would be ignored, so it sits the call out.
 */
export async function sitsOut(pass: PluginPass<'scheduler', SchedulerContext>, hook: 'preFilter' | 'preScore', input: SchedulingInput): Promise<boolean> {
  const plugin = pass.active.plugin;
  const ask: PrePass | undefined = plugin[hook];
  if (ask === undefined) return false;
  const outcome = await pass.call((ctx) => ask.call(plugin, ctx, input.pod, input.pool));
  if (!outcome.ok) {
    pass.check(outcome);
    return true;
  }
  if (outcome.value === SKIP) return true;
  if (outcome.value === undefined) return false;
  pass.check(pass.invalidAnswer(new TypeError(`${hook}() returned ${JSON.stringify(outcome.value)}; expected SKIP ('skip') or nothing`)));
  return true;
}

export async function runFilterChain(
  runtime: ChainRuntime,
  plugins: readonly ActivePlugin<'scheduler'>[],
  input: SchedulingInput,
  candidates: readonly Node[],
  budget: RequestBudget,
): Promise<FilterOutcome> {
  // The nodes still in the running, and their indices among the candidates.
  const alive: Node[] = [...candidates];
  let aliveAt = Int32Array.from(candidates.keys());
  const rejectedAs = new Int32Array(candidates.length).fill(NOT_REJECTED);
  const rejections: Rejection[] = [];
  const shadowRejected = new Map<number, NodeRejection[]>();
  const passes: PluginPassSummary[] = [];
  const { pod, pool } = input;

  for (const active of plugins) {
    const filter = active.plugin.filter;
    if (filter === undefined) continue;
    if (alive.length === 0) break;
    const pass = new PluginPass<'scheduler', SchedulerContext>(runtime, active, 'filter', budget.remainingMs, { cluster: input.cluster });
    const plugin = active.plugin;
    const enforcing = pass.enforcing;
    let keptCount = 0;
    let count = 0;
    let skipped = false;
    try {
      if ((skipped = await sitsOut(pass, 'preFilter', input))) continue;
      const { values, failures } = await pass.callEach(alive, (ctx, node) => filter.call(plugin, ctx, pod, node, pool));
      // Shadow rejections go to a table of their own: they must not count as the node's rejection.
      const table = new RejectionTable(enforcing ? rejections : [], active.name);
      for (let i = 0; i < alive.length; i++) {
        let verdict = NOT_REJECTED;
        const failure = failures?.get(i);
        if (failure !== undefined) pass.check(failure);
        else {
          try {
            verdict = judge(table, active.name, values[i] as FilterResult);
          } catch (e: unknown) {
            pass.check(pass.invalidAnswer(e as Error));
          }
        }
        const at = aliveAt[i] as number;
        if (verdict === NOT_REJECTED) {
          if (enforcing) {
            alive[keptCount] = alive[i] as Node;
            aliveAt[keptCount] = at;
          }
          keptCount++;
          continue;
        }
        count++;
        if (enforcing) rejectedAs[at] = verdict;
        else {
          let list = shadowRejected.get(at);
          if (list === undefined) shadowRejected.set(at, (list = []));
          list.push(table.entry(verdict));
        }
      }
    } finally {
      passes.push(summarizePass(pass, pass.end(), count, skipped));
    }
    if (enforcing) {
      alive.length = keptCount;
      aliveAt = aliveAt.subarray(0, keptCount);
    }
  }
  return { kept: alive, rejectedAs, rejections, shadowRejected, passes };
}
