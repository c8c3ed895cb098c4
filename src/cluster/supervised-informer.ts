/**
 * One informer (list + watch of one resource) kept alive. @kubernetes/client-node's ListWatch
 * re-lists by itself on `410 Gone` and reconnects after its client-side watch timeout, but on any
 * other error (API server restarting, connection reset, 5xx, 403) it stops for good. This restarts
 * it with capped, jittered backoff, and a watchdog restarts one that has gone silent.
 *
 * A restart builds a fresh ListWatch and lists from scratch: only a full list is authoritative about
 * deletions missed while disconnected. The old cache keeps serving until the new list succeeds.
 */
import {
  ADD,
  CONNECT,
  DELETE,
  ERROR,
  ListWatch,
  UPDATE,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorText } from './kube-api.ts';

export interface InformerBackoff {
  initialMs: number;
  maxMs: number;
}

export interface SupervisedInformerOptions<T extends KubernetesObject> {
  /** For logs and readiness reasons: "nodes", "agentpools"… */
  name: string;
  kubeConfig: KubeConfig;
  /** API path of the collection, e.g. /api/v1/pods. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Called after every change to the cache: with the object added, updated or deleted, or with none
   * after a list, when anything may have changed.
   */
  onChange: (object?: T) => void;
  log: Logger;
  backoff: InformerBackoff;
  /** Watchdog: no event and no reconnect for this long restarts the informer. */
  silentAfterMs: number;
  now: () => number;
}

export interface InformerHealth {
  readonly name: string;
  /** A full list has succeeded at least once. */
  readonly synced: boolean;
  /** Time (ms, `now()` clock) of the last sign of a live watch: an event, a list, a clean reconnect. */
  readonly lastContact: number;
  /** The error the informer is recovering from, until it recovers. */
  readonly lastError: string | undefined;
  readonly relists: number;
  readonly restarts: number;
}

export class SupervisedInformer<T extends KubernetesObject> {
  readonly #o: SupervisedInformerOptions<T>;
  readonly #watch: Watch;
  /** The ListWatch whose cache is served. */
  #current: ListWatch<T> | undefined;
  /** A replacement that has not finished its first list yet. */
  #pending: ListWatch<T> | undefined;
  #synced = false;
  #lastContact: number;
  #lastError: string | undefined;
  #relists = 0;
  #restarts = 0;
  #attempt = 0;
  #retry: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #stopped = true;
  #firstSync: { promise: Promise<void>; resolve: () => void };

  constructor(options: SupervisedInformerOptions<T>) {
    this.#o = options;
    this.#watch = new Watch(options.kubeConfig);
    this.#lastContact = options.now();
    let resolve = (): void => {};
    const promise = new Promise<void>((r) => (resolve = r));
    this.#firstSync = { promise, resolve };
  }

  /** Starts listing and watching; resolves once the first list has landed (retries until it does). */
  start(): Promise<void> {
    this.#stopped = false;
    this.#spawn();
    const period = Math.max(50, Math.floor(this.#o.silentAfterMs / 4));
    this.#watchdog = setInterval(() => this.#checkSilence(), period);
    this.#watchdog.unref();
    return this.#firstSync.promise;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearInterval(this.#watchdog);
    const informers = [this.#current, this.#pending].filter((i): i is ListWatch<T> => i !== undefined);
    this.#pending = undefined;
    await Promise.all(informers.map((i) => i.stop()));
  }

  list(): readonly T[] {
    return this.#current?.list() ?? [];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#current?.get(name, namespace);
  }

  health(): InformerHealth {
    return {
      name: this.#o.name,
      synced: this.#synced,
      lastContact: this.#lastContact,
      lastError: this.#lastError,
      relists: this.#relists,
      restarts: this.#restarts,
    };
  }

  #spawn(): void {
    let connects = 0;
    const informer: ListWatch<T> = new ListWatch<T>(
      this.#o.path,
      this.#watch,
      async () => {
        const list = await this.#o.list();
        this.#listed(informer);
        return list;
      },
      false,
      this.#o.labelSelector,
      this.#o.fieldSelector,
    );
    const changed = (object: T): void => {
      if (informer !== this.#current) return;
      this.#healthy();
      this.#o.onChange(object);
    };
    for (const verb of [ADD, UPDATE, DELETE] as const) informer.on(verb, changed);
    informer.on(CONNECT, () => {
      // The first connect precedes the first list; a later one follows a watch that ended cleanly
      // (server close, or the client's inactivity timeout), which is a sign of health on a quiet resource.
      if (++connects > 1 && informer === this.#current) this.#healthy();
    });
    informer.on(ERROR, (err: unknown) => this.#failed(informer, err));
    this.#pending = informer;
    void informer.start();
  }

  /** Runs inside the ListWatch's list function, just before it applies the items. */
  #listed(informer: ListWatch<T>): void {
    if (this.#stopped) return;
    if (informer === this.#current) {
      // The ListWatch re-listed by itself (410 Gone: its resourceVersion was compacted away).
      this.#relists++;
      this.#healthy();
      queueMicrotask(() => this.#o.onChange());
      return;
    }
    if (informer !== this.#pending) return;
    const old = this.#current;
    this.#current = informer;
    this.#pending = undefined;
    if (old !== undefined && old !== informer) void old.stop();
    this.#relists++;
    this.#healthy();
    if (!this.#synced) {
      this.#synced = true;
      this.#o.log.info({ informer: this.#o.name }, 'informer synced');
    }
    // The items land right after this returns; the change listener coalesces, so they are in place by then.
    queueMicrotask(() => {
      this.#o.onChange();
      this.#firstSync.resolve();
    });
  }

  #healthy(): void {
    this.#lastContact = this.#o.now();
    if (this.#lastError !== undefined) this.#o.log.info({ informer: this.#o.name }, 'informer recovered');
    this.#lastError = undefined;
    this.#attempt = 0;
  }

  #failed(informer: ListWatch<T>, err: unknown): void {
    if (this.#stopped || (informer !== this.#current && informer !== this.#pending)) return;
    void informer.stop();
    if (informer === this.#pending) this.#pending = undefined;
    this.#lastError = apiErrorText(err);
    this.#scheduleRestart(`watch failed: ${this.#lastError}`);
  }

  #checkSilence(): void {
    if (this.#stopped || this.#retry !== undefined || this.#pending !== undefined) return;
    const silentMs = this.#o.now() - this.#lastContact;
    if (silentMs <= this.#o.silentAfterMs) return;
    this.#lastError = `no event or reconnect for ${Math.round(silentMs / 1000)}s`;
    void this.#current?.stop();
    this.#scheduleRestart(`informer silent: ${this.#lastError}`);
  }

  #scheduleRestart(why: string): void {
    if (this.#retry !== undefined) return;
    const { initialMs, maxMs } = this.#o.backoff;
    const base = Math.min(maxMs, initialMs * 2 ** this.#attempt);
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    this.#attempt++;
    this.#o.log.warn({ informer: this.#o.name, retryInMs: delay, attempt: this.#attempt }, `${why}; restarting`);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#stopped) return;
      this.#restarts++;
      this.#spawn();
    }, delay);
    this.#retry.unref();
  }
}
