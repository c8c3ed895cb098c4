/**
 * The filter chain: scheduler plugins in priority order, each looking only at the nodes every
 * plugin before it kept (a node drops out at its first failing plugin). Shadow plugins judge the
 * same nodes but drop none. Stops early once no node is left. A plugin that fails to answer for a
 * node rejects it (unless the plugin is `optional`): a broken filter never widens placement.
 */
import { CycleState } from '../plugins/cycle-state.ts';
import type { Node, Pod } from '../api/kubernetes.ts';
import type { AgentPool } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import type { ActivePlugin } from '../plugins/plugin-set.ts';
import { PluginPass, type Answers, type CallFailure, type ChainRuntime, type RequestBudget } from '../plugins/plugin-pass.ts';
import { SKIP, type FilterResult, type FilterVerdict, type MaybePromise, type PassPlan, type SchedulerContext } from '../plugins/types.ts';
import { clip } from '../util/clip.ts';
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
  /** What the plugin said of this pass (SchedulerContext.note). */
  readonly note?: string;
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

/** Checked at run time: third-party plugins are plain JavaScript as often as not. */
function isVerdict(value: unknown): value is FilterVerdict {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const reason = v['reason'];
  const unresolvable = v['unresolvable'];
  return (
    typeof v['passed'] === 'boolean' &&
    (reason === undefined || typeof reason === 'string') &&
    (unresolvable === undefined || typeof unresolvable === 'boolean')
  );
}

/** The longest plugin reason kept: a reason travels to kube-scheduler, its events and the trace for every node it rejects. */
export const MAX_REASON_CHARS = 512;

/**
 * A filter answer as a rejection entry, NOT_REJECTED when it passed, or the plugin's failure when the
 * answer has the wrong shape (a reason that is not a string never becomes "[object Object]").
 */
function judge(table: RejectionTable, pass: FilterPass, result: unknown): number | CallFailure {
  if (result === true) return NOT_REJECTED;
  if (result === false) return table.intern(`rejected by ${pass.active.name}`, false);
  // A verdict object seen before (a plugin may hand out one per reason) was checked then.
  const known = table.known(result as FilterVerdict);
  if (known !== undefined) return known;
  if (!isVerdict(result)) return pass.malformed('filter()', result, 'a boolean or {passed: boolean, reason?: string, unresolvable?: boolean}');
  if (result.passed) return NOT_REJECTED;
  return table.internVerdict(result, clip(result.reason ?? `rejected by ${pass.active.name}`, MAX_REASON_CHARS));
}

type FilterPass = PluginPass<'scheduler', SchedulerContext>;

/**
 * What a node the plugin did not answer for gets: under Fail the request fails (check throws); an
 * `optional` plugin lets it through; otherwise the plugin rejects it, as unresolvable so that
 * kube-scheduler does not evict pods in the hope that a plugin's timeout goes away.
 */
function unanswered(table: RejectionTable, pass: FilterPass, failure: CallFailure): number {
  pass.check(failure);
  if (pass.active.settings.optional) return NOT_REJECTED;
  const what = failure.kind === 'timeout' ? 'timed out' : 'failed';
  return table.intern(clip(`could not check this node (${what}): ${failure.error.message}`, MAX_REASON_CHARS), true);
}

/** A pass's SchedulerContext.note: keeps the last line the plugin left, clipped as reasons are. */
export class PassNote {
  text: string | undefined;
  readonly note = (text: string): void => {
    this.text = clip(text, MAX_REASON_CHARS);
  };
}

export function summarizePass(
  pass: PluginPass<'scheduler', SchedulerContext>,
  durationMs: number,
  rejected: number,
  skipped = false,
  note?: string,
): PluginPassSummary {
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
    ...(note !== undefined ? { note } : {}),
    ...(f !== undefined ? { failure: clip(`${f.kind}: ${f.error.message}`, MAX_REASON_CHARS) } : {}),
  };
}

type PrePass = (ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined) => MaybePromise<PassPlan>;

/**
 * Asks a plugin's preFilter or preScore, once per pass: true when the plugin sits this call out. A
 * hook that throws, times out or answers anything but SKIP or nothing is the plugin's error, handled
 * by its failurePolicy; under Ignore it sits the call out, with the failure as the pass's first
 * (a filter then rejects every node, unless the plugin is optional).
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
  pass.check(pass.malformed(`${hook}()`, outcome.value, "SKIP ('skip') or nothing"));
  return true;
}

export async function runFilterChain(
  runtime: ChainRuntime,
  plugins: readonly ActivePlugin<'scheduler'>[],
  input: SchedulingInput,
  candidates: readonly Node[],
  budget: RequestBudget,
  /** The phase plugin metrics and stats record: the capacity check runs the chain as `capacity`. */
  phase = 'filter',
): Promise<FilterOutcome> {
  // The nodes still in the running, and their indices among the candidates.
  const alive: Node[] = [...candidates];
  let aliveAt = Int32Array.from(candidates.keys());
  const rejectedAs = new Int32Array(candidates.length).fill(NOT_REJECTED);
  const rejections: Rejection[] = [];
  const shadowRejected = new Map<number, NodeRejection[]>();
  const passes: PluginPassSummary[] = [];
  const state = new CycleState();
  const { pod, pool } = input;

  const filterers = plugins.filter((p) => p.plugin.filter !== undefined);
  for (let j = 0; j < filterers.length && alive.length > 0; j++) {
    const active = filterers[j] as ActivePlugin<'scheduler'>;
    const plugin = active.plugin;
    const filter = plugin.filter as NonNullable<typeof plugin.filter>;
    const noted = new PassNote();
    const pass: FilterPass = new PluginPass(runtime, active, phase, budget.shareOf(filterers, j), { cluster: input.cluster, state, note: noted.note });
    const enforcing = pass.enforcing;
    let keptCount = 0;
    let count = 0;
    let skipped = false;
    try {
      let answers: Answers<FilterResult> | undefined;
      if (!(await sitsOut(pass, 'preFilter', input))) answers = await pass.callEach(alive, (ctx, node) => filter.call(plugin, ctx, pod, node, pool));
      // Sat out: SKIP (every node passes), or a failed preFilter (no node was answered for).
      const hookFailure = answers === undefined ? pass.firstFailure : undefined;
      if ((skipped = answers === undefined && (hookFailure === undefined || active.settings.optional))) continue;
      // Shadow rejections go to a table of their own: they must not count as the node's rejection.
      const table = new RejectionTable(enforcing ? rejections : [], active.name);
      for (let i = 0; i < alive.length; i++) {
        const failure = hookFailure ?? answers?.failures?.get(i);
        const judged = failure ?? judge(table, pass, answers?.values[i]);
        const verdict = typeof judged === 'number' ? judged : unanswered(table, pass, judged);
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
      passes.push(summarizePass(pass, pass.end(), count, skipped, noted.text));
    }
    if (enforcing) {
      alive.length = keptCount;
      aliveAt = aliveAt.subarray(0, keptCount);
    }
  }
  return { kept: alive, rejectedAs, rejections, shadowRejected, passes };
}
