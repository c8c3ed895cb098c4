/**
 * The one runner under every chain: a plugin's part in one request ("pass"), however many calls it
 * makes (one per node for scheduler plugins). It gives the calls a context with the plugin's deadline
 * — its own `timeout`, cut to its share of the request's budget — isolates exceptions and timeouts,
 * and records calls, failures and time in the metrics and /debug stats once per pass.
 */
import type { Logger } from 'pino';
import type { ServiceMetrics } from '../observability/metrics.ts';
import type { PluginStats } from '../observability/plugin-stats.ts';
import { describeAnswer, MalformedAnswerError } from './plugin-answer.ts';
import type { ActivePlugin } from './plugin-set.ts';
import type { MaybePromise, PluginContext, PluginType } from './types.ts';

export type CallFailure = { readonly ok: false; readonly kind: 'error' | 'timeout'; readonly error: Error };
export type CallOutcome<R> = { readonly ok: true; readonly value: R } | CallFailure;

/** What the calls of a pass over many items answered. */
export interface Answers<R> {
  /** The answer for each item, in item order; holds nothing where `failures` has the item's index. */
  readonly values: R[];
  /** Failed calls (errors and timeouts) by item index; undefined when every call answered. */
  readonly failures: ReadonlyMap<number, CallFailure> | undefined;
}

/**
 * Synchronous answers are checked against the deadline once per this many calls, not after each: a
 * clock read per call cost more than most plugins' answers. The calls of the stride in which the
 * deadline passed are discarded as late, and the remaining items are not asked at all.
 */
export const DEADLINE_STRIDE = 32;

/** Raised when a plugin with `failurePolicy: Fail` errs or times out: the whole request fails. */
export class PluginFailure extends Error {
  readonly plugin: string;
  readonly pluginType: PluginType;
  readonly kind: 'error' | 'timeout';
  constructor(type: PluginType, plugin: string, kind: 'error' | 'timeout', cause: Error) {
    super(`${type} plugin "${plugin}" ${kind === 'timeout' ? 'timed out' : 'failed'}: ${cause.message}`, { cause });
    this.name = 'PluginFailure';
    this.plugin = plugin;
    this.pluginType = type;
    this.kind = kind;
  }
}

export class PluginTimeoutError extends Error {
  constructor(plugin: string, ms: number) {
    super(`no answer from "${plugin}" within its ${Math.round(ms)}ms deadline`);
    this.name = 'PluginTimeoutError';
  }
}

/** What a chain shares with its passes: where to record, and a clock for the request's budget. */
export interface ChainRuntime {
  readonly metrics: ServiceMetrics;
  readonly stats: PluginStats;
  readonly log: Logger;
}

const EXPIRED = Symbol('expired');

function isThenable<R>(value: MaybePromise<R>): value is Promise<R> {
  // typeof first: booleans and numbers, the per-node answers, need no property lookup.
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** One child logger per plugin (and logger), not one per pass: a pass is made per plugin per request. */
const pluginLogs = new WeakMap<ActivePlugin, WeakMap<Logger, Logger>>();

function pluginLog(root: Logger, active: ActivePlugin): Logger {
  let byRoot = pluginLogs.get(active);
  if (byRoot === undefined) pluginLogs.set(active, (byRoot = new WeakMap()));
  let log = byRoot.get(root);
  if (log === undefined) byRoot.set(root, (log = root.child({ plugin: active.name, pluginType: active.type })));
  return log;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(typeof e === 'string' ? e : `non-Error thrown: ${describeAnswer(e)}`);
}

export class PluginPass<T extends PluginType, C extends PluginContext = PluginContext> {
  readonly active: ActivePlugin<T>;
  readonly ctx: C;
  calls = 0;
  errors = 0;
  timeouts = 0;
  /** The first failure of this pass, for the trace and the Fail policy. */
  firstFailure: CallFailure | undefined;

  readonly #runtime: ChainRuntime;
  readonly #phase: string;
  readonly #started = performance.now();
  readonly #deadline: number;
  readonly #budgetMs: number;
  readonly #controller = new AbortController();
  /**
   * Armed when the first call answers with a Promise: a synchronous call cannot be interrupted, so
   * passes of synchronous plugins (every per-node call of the built-ins) need no timer at all.
   */
  #timer: NodeJS.Timeout | undefined;
  /** Settles when the deadline passes; shared by every pending call of the pass. */
  #expired: Promise<typeof EXPIRED> | undefined;

  /** `allowedMs`: the pass's part of the request's budget (RequestBudget.shareOf, or all that is left). */
  constructor(runtime: ChainRuntime, active: ActivePlugin<T>, phase: string, allowedMs: number, extra: Omit<C, keyof PluginContext>) {
    this.active = active;
    this.#runtime = runtime;
    this.#phase = phase;
    this.#budgetMs = Math.max(0, Math.min(active.settings.timeoutMs, allowedMs));
    this.#deadline = this.#started + this.#budgetMs;
    this.ctx = { ...extra, signal: this.#controller.signal, log: pluginLog(runtime.log, active), config: active.settings.config } as C;
  }

  get enforcing(): boolean {
    return this.active.settings.mode === 'enforce';
  }

  /** Calls the plugin once; synchronous answers stay synchronous (the hot path for per-node calls). */
  call<R>(fn: (ctx: C) => MaybePromise<R>): CallOutcome<R> | Promise<CallOutcome<R>> {
    this.calls++;
    if (this.#controller.signal.aborted) return this.#fail('timeout', this.#controller.signal.reason as Error);
    let result: MaybePromise<R>;
    try {
      result = fn(this.ctx);
    } catch (e: unknown) {
      return this.#fail('error', asError(e));
    }
    if (isThenable(result)) return this.#settle(result);
    // A synchronous plugin cannot be interrupted; one that overran its deadline has its answer discarded.
    if (this.#expiredNow()) return this.#fail('timeout', this.#timeoutError());
    return { ok: true, value: result };
  }

  /**
   * Calls the plugin once per item (a scheduler plugin: once per node) and collects the answers in
   * arrays rather than an outcome per call: a call may carry thousands of nodes. Waits only if an
   * answer is a Promise; synchronous answers are checked against the deadline every DEADLINE_STRIDE calls.
   */
  callEach<I, R>(items: readonly I[], fn: (ctx: C, item: I) => MaybePromise<R>): Answers<R> | Promise<Answers<R>> {
    const n = items.length;
    const values = new Array<R>(n);
    const failures = new Map<number, CallFailure>();
    const fail = (i: number, kind: 'error' | 'timeout', error: Error): void => void failures.set(i, this.#fail(kind, error));
    let pending: Map<number, Promise<void>> | undefined;
    const ctx = this.ctx;
    this.calls += n;
    let unchecked = 0;
    for (let i = 0; i < n; i++) {
      try {
        const result = fn(ctx, items[i] as I);
        if (isThenable(result)) {
          (pending ??= new Map()).set(
            i,
            this.#settle(result).then((o) => void (o.ok ? (values[i] = o.value) : failures.set(i, o))),
          );
        } else {
          values[i] = result;
        }
      } catch (e: unknown) {
        fail(i, 'error', asError(e));
      }
      if (i - unchecked + 1 < DEADLINE_STRIDE && i < n - 1) continue;
      if (this.#expiredNow()) {
        const late = this.#timeoutError();
        for (let j = unchecked; j < n; j++) if (!failures.has(j) && pending?.has(j) !== true) fail(j, 'timeout', late);
        break;
      }
      unchecked = i + 1;
    }
    const answers = (): Answers<R> => ({ values, failures: failures.size > 0 ? failures : undefined });
    return pending === undefined ? answers() : Promise.all(pending.values()).then(answers);
  }

  #expiredNow(): boolean {
    return this.#controller.signal.aborted || performance.now() > this.#deadline;
  }

  #timeoutError(): Error {
    return (this.#controller.signal.reason as Error | undefined) ?? new PluginTimeoutError(this.active.name, this.#budgetMs);
  }

  async #settle<R>(promise: Promise<R>): Promise<CallOutcome<R>> {
    const signal = this.#controller.signal;
    if (this.#timer === undefined && !signal.aborted) {
      const left = Math.max(0, this.#deadline - performance.now());
      this.#timer = setTimeout(() => this.#controller.abort(new PluginTimeoutError(this.active.name, this.#budgetMs)), left);
    }
    this.#expired ??= new Promise((resolve) => {
      if (signal.aborted) resolve(EXPIRED);
      else signal.addEventListener('abort', () => resolve(EXPIRED), { once: true });
    });
    const answered = promise.then(
      (value): CallOutcome<R> => ({ ok: true, value }),
      (e: unknown) => this.#fail('error', asError(e)),
    );
    const first = await Promise.race([answered, this.#expired]);
    return first === EXPIRED ? this.#fail('timeout', signal.reason as Error) : first;
  }

  /** Counts an answer of the wrong shape as this plugin's error, naming the method, what came back and what was expected. */
  malformed(method: string, value: unknown, expected: string): CallFailure {
    return this.#fail('error', new MalformedAnswerError(method, value, expected));
  }

  #fail(kind: 'error' | 'timeout', error: Error): CallFailure {
    if (kind === 'error') this.errors++;
    else this.timeouts++;
    const outcome: CallFailure = { ok: false, kind, error };
    this.firstFailure ??= outcome;
    return outcome;
  }

  /**
   * Applies the failure policy to a failed call: under `Fail` (and enforce mode) the request fails,
   * under `Ignore` the caller skips this plugin's answer.
   */
  check<R>(outcome: CallOutcome<R>): void {
    if (!outcome.ok && this.enforcing && this.active.settings.failurePolicy === 'Fail') {
      throw new PluginFailure(this.active.type, this.active.name, outcome.kind, outcome.error);
    }
  }

  /** Elapsed time of the pass so far, in ms. */
  get elapsedMs(): number {
    return performance.now() - this.#started;
  }

  /** Ends the pass: releases its timer, records metrics and stats, logs the first failure. */
  end(): number {
    clearTimeout(this.#timer);
    const ms = this.elapsedMs;
    const { type, name } = this.active;
    const m = this.#runtime.metrics;
    m.pluginDuration.observe({ plugin_name: name, plugin_type: type, phase: this.#phase }, ms / 1000);
    if (this.errors > 0) m.pluginFailures.inc({ plugin_name: name, plugin_type: type, kind: 'error' }, this.errors);
    if (this.timeouts > 0) m.pluginFailures.inc({ plugin_name: name, plugin_type: type, kind: 'timeout' }, this.timeouts);
    this.#runtime.stats.record(type, name, ms, this.calls, this.errors, this.timeouts);
    const failure = this.firstFailure;
    if (failure !== undefined) {
      this.ctx.log.warn(
        {
          phase: this.#phase,
          errors: this.errors,
          timeouts: this.timeouts,
          failurePolicy: this.active.settings.failurePolicy,
          mode: this.active.settings.mode,
          err: failure.error,
        },
        `plugin ${failure.kind === 'timeout' ? 'timed out' : 'failed'} (${this.errors + this.timeouts} of ${this.calls} calls)`,
      );
    }
    return ms;
  }
}

/**
 * The request's budget, shared by the passes of a chain that run one after another. Each pass gets
 * its own timeout, cut to a share of what is left in proportion to its timeout among the plugins
 * still to run (itself and those after it): a plugin that hangs takes only its share, and time a
 * fast plugin leaves unused passes on to the next ones.
 */
export class RequestBudget {
  readonly #deadline: number;
  constructor(budgetMs: number) {
    this.#deadline = performance.now() + budgetMs;
  }
  get remainingMs(): number {
    return Math.max(0, this.#deadline - performance.now());
  }

  /** The time `chain[index]` may take, leaving the plugins after it (`chain[index + 1…]`) their shares. */
  shareOf(chain: readonly ActivePlugin[], index: number): number {
    const own = (chain[index] as ActivePlugin).settings.timeoutMs;
    let wanted = own;
    for (let i = index + 1; i < chain.length; i++) wanted += (chain[i] as ActivePlugin).settings.timeoutMs;
    const remaining = this.remainingMs;
    return wanted <= remaining ? own : (remaining * own) / wanted;
  }
}
