/**
 * A load writes at most the Model's declared `spec.size`: a source that sends more (a lying server,
 * a seeded folder that grew, a symlink to a disk) must not fill the node's disk.
 */
import type { Model } from '../api/neuronetes.ts';
import { objectKey } from '../api/neuronetes.ts';
import { parseQuantity } from '../util/quantity.ts';

/** `spec.size` in bytes; throws a clear Error when it is not a positive quantity. */
export function modelSizeBytes(model: Model): number {
  let bytes: number;
  try {
    bytes = parseQuantity(model.spec.size);
  } catch (e: unknown) {
    throw new Error(`Model ${objectKey(model)}: spec.size: ${(e as Error).message}`, { cause: e });
  }
  if (!(bytes >= 1)) throw new Error(`Model ${objectKey(model)}: spec.size must be at least one byte, not ${JSON.stringify(model.spec.size)}`);
  return Math.floor(bytes);
}

export class ModelTooLargeError extends Error {
  constructor(model: Model, bytes: number, limit: number) {
    super(`${objectKey(model)} is larger than its spec.size ${model.spec.size} (${limit} bytes): ${bytes} bytes or more; refusing to write more`);
    this.name = 'ModelTooLargeError';
  }
}

/** The bytes one load may still write, shared by all of its files. */
export class ByteBudget {
  readonly limit: number;
  readonly #model: Model;
  #used = 0;

  constructor(model: Model) {
    this.#model = model;
    this.limit = modelSizeBytes(model);
  }

  get used(): number {
    return this.#used;
  }

  /** Fails before anything is written when a file announces more than is left. */
  reserve(bytes: number): void {
    if (this.#used + bytes > this.limit) throw new ModelTooLargeError(this.#model, this.#used + bytes, this.limit);
  }

  /** Counts bytes as they are written; throws once the total passes the limit. */
  take(bytes: number): void {
    this.#used += bytes;
    if (this.#used > this.limit) throw new ModelTooLargeError(this.#model, this.#used, this.limit);
  }
}
