/**
 * kube-scheduler's CycleState: data a scheduler plugin works out once per call (in `preFilter` or
 * `preScore`) and reads in every `filter`/`score` of that call. One per filter or prioritize call,
 * shared by the chain's plugins and dropped with the call, so no plugin needs a module-level cache.
 */

/** A typed key: `const PoolNeeds = stateKey<Needs>('gpu-fit/needs')`. */
export interface StateKey<T> {
  readonly name: string;
  /** Type carrier only; never set. */
  readonly __value?: T;
}

export function stateKey<T>(name: string): StateKey<T> {
  return Object.freeze({ name });
}

export class CycleState {
  readonly #values = new Map<StateKey<unknown>, unknown>();

  read<T>(key: StateKey<T>): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  write<T>(key: StateKey<T>, value: T): void {
    this.#values.set(key, value);
  }

  /** The value under `key`, computed by `compute` on the first read of the call. */
  readOrCompute<T>(key: StateKey<T>, compute: () => T): T {
    // One lookup on the hot path (every node of a call): has() only for a value stored as undefined.
    const known = this.#values.get(key);
    if (known !== undefined || this.#values.has(key)) return known as T;
    const value = compute();
    this.#values.set(key, value);
    return value;
  }
}
