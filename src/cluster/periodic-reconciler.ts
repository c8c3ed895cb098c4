/**
 * The schedule the leader's controllers share: a reconcile round at start, then one every interval
 * after the last ended, and one a quiet time after a cluster change (the changes in that time start
 * one round, not one each). Rounds run one after another, never overlapping; the timers are unref'd
 * so they do not keep the process alive; close stops both and waits for the round in flight.
 */
import type { Logger } from 'pino';
import type { ClusterSource } from './cluster-source.ts';

/** What started a round: the interval (a full round) or a cluster change (it may do less). */
export type ReconcileTrigger = 'interval' | 'change';

export interface PeriodicReconcilerOptions {
  readonly source: Pick<ClusterSource, 'onChange'>;
  readonly intervalMs: number;
  /** The quiet time after a change before its round starts. */
  readonly changeDelayMs: number;
  readonly reconcile: (trigger: ReconcileTrigger) => Promise<unknown>;
  /** Where a round that throws is reported; the schedule goes on and the next round retries. */
  readonly log: Logger;
}

export class PeriodicReconciler {
  readonly #o: PeriodicReconcilerOptions;
  #timer: NodeJS.Timeout | undefined;
  #changeTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #round: Promise<unknown> = Promise.resolve();
  #stopped = true;
  #closed = false;

  constructor(options: PeriodicReconcilerOptions) {
    this.#o = options;
  }

  /** True once close was called: a round in flight stops writing when it sees this. */
  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = (): void => {
      this.#enqueue('interval').finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.intervalMs).unref();
      });
    };
    this.#timer = setTimeout(tick, 0).unref();
    this.#unsubscribe = this.#o.source.onChange(() => {
      if (this.#changeTimer !== undefined || this.#stopped) return;
      this.#changeTimer = setTimeout(() => {
        this.#changeTimer = undefined;
        void this.#enqueue('change');
      }, this.#o.changeDelayMs).unref();
    });
  }

  /** Stops both schedules and waits for a round in flight: nothing writes after close. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#changeTimer);
    this.#unsubscribe?.();
    await this.#round;
  }

  #enqueue(trigger: ReconcileTrigger): Promise<unknown> {
    // Caught here: a rejected round would stop every later one and, unhandled, end the process.
    this.#round = this.#round
      .then(() => this.#o.reconcile(trigger))
      .catch((e: unknown) => this.#o.log.error({ trigger, err: e instanceof Error ? e.message : String(e) }, 'reconcile round failed; the next one retries'));
    return this.#round;
  }
}
