/**
 * The last N decisions of one kind, newest first, for /debug/plugins/<type>/trace. Bounded twice:
 * at most `capacity` entries, and at most `maxBytes` of them, counted as the JSON they show on
 * /debug (requests feed the entries, so a count alone bounds nothing: one 300,000-node call is
 * megabytes). Oldest entries go first when either bound is reached.
 */
export interface TraceEntry {
  readonly id: number;
  readonly time: string;
  /** Who the decision was about: `namespace/name` of a pod or a pool. */
  readonly subject: string;
}

/** Per ring, by default. */
export const TRACE_MAX_BYTES = 16 * 1024 * 1024;
/** The most one entry may show; producers of large entries (the scheduler's) leave nodes out to stay under it. */
export const TRACE_ENTRY_MAX_BYTES = 1024 * 1024;

/** `ns/name` matches itself, and a bare `name` matches it in any namespace. */
function sameObject(key: string | null | undefined, query: string): boolean {
  return key != null && (key === query || key.endsWith(`/${query}`));
}

/** What an entry shows on /debug, in bytes: its JSON's length (UTF-16 units, a close upper bound for names and reasons). */
export function jsonBytes(value: unknown): number {
  return JSON.stringify(value)?.length ?? 0;
}

export class TraceBuffer<T extends TraceEntry> {
  readonly #items: (T | undefined)[];
  readonly #sizes: Float64Array;
  /** Slot of the oldest entry, and how many entries there are. */
  #head = 0;
  #count = 0;
  #bytes = 0;
  #seq = 0;

  readonly capacity: number;
  readonly maxBytes: number;
  readonly #poolOf: (entry: T) => string | null;

  /** `poolOf` names the pool an entry concerns, for `?pool=`; by default the subject is the pool. */
  constructor(capacity: number, poolOf: (entry: T) => string | null = (e) => e.subject, maxBytes = TRACE_MAX_BYTES) {
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.#poolOf = poolOf;
    this.#items = new Array<T | undefined>(capacity);
    this.#sizes = new Float64Array(capacity);
  }

  nextId(): number {
    return ++this.#seq;
  }

  /** The bytes the kept entries count for. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Adds an entry of `bytes` (its JSON's length unless the caller, who knows better and cheaper,
   * says); returns the entries it pushed out, oldest first, whose storage the caller may reuse. An
   * entry over TRACE_ENTRY_MAX_BYTES or the whole ring's bytes is not kept: it comes back at once.
   */
  push(entry: T, bytes: number = jsonBytes(entry)): T[] {
    if (this.capacity === 0 || bytes > Math.min(this.maxBytes, TRACE_ENTRY_MAX_BYTES)) return [entry];
    const evicted: T[] = [];
    while (this.#count > 0 && (this.#count === this.capacity || this.#bytes + bytes > this.maxBytes)) evicted.push(this.#shift());
    const slot = (this.#head + this.#count) % this.capacity;
    this.#items[slot] = entry;
    this.#sizes[slot] = bytes;
    this.#bytes += bytes;
    this.#count++;
    return evicted;
  }

  #shift(): T {
    const entry = this.#items[this.#head] as T;
    this.#bytes -= this.#sizes[this.#head] as number;
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#count--;
    return entry;
  }

  /** Newest first, optionally only those about `subject` or `pool` (each `ns/name`, or a bare name). */
  list(options: { limit?: number; subject?: string; pool?: string } = {}): T[] {
    const out: T[] = [];
    const limit = options.limit ?? this.capacity;
    for (let i = this.#count - 1; i >= 0 && out.length < limit; i--) {
      const item = this.#items[(this.#head + i) % this.capacity] as T;
      if (options.subject !== undefined && !sameObject(item.subject, options.subject)) continue;
      if (options.pool !== undefined && !sameObject(this.#poolOf(item), options.pool)) continue;
      out.push(item);
    }
    return out;
  }
}
