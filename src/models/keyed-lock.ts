/** Runs work one at a time per key (a model's load and unload never overlap); other keys run freely. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const { promise: done, resolve: release } = Promise.withResolvers<undefined>();
    const tail = previous.then(() => done);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release(undefined);
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
