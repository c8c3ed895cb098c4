/** The last N decisions of one kind, newest first, for /debug/plugins/<type>/trace. */
export interface TraceEntry {
  readonly id: number;
  readonly time: string;
  /** Who the decision was about: `namespace/name` of a pod or a pool. */
  readonly subject: string;
}

/** `ns/name` matches itself, and a bare `name` matches it in any namespace. */
function sameObject(key: string | null | undefined, query: string): boolean {
  return key != null && (key === query || key.endsWith(`/${query}`));
}

export class TraceBuffer<T extends TraceEntry> {
  readonly #items: (T | undefined)[];
  #next = 0;
  #seq = 0;

  readonly capacity: number;
  readonly #poolOf: (entry: T) => string | null;

  /** `poolOf` names the pool an entry concerns, for `?pool=`; by default the subject is the pool. */
  constructor(capacity: number, poolOf: (entry: T) => string | null = (e) => e.subject) {
    this.capacity = capacity;
    this.#poolOf = poolOf;
    this.#items = new Array<T | undefined>(capacity);
  }

  nextId(): number {
    return ++this.#seq;
  }

  /** Adds an entry; returns the one it pushed out, whose storage the caller may reuse. */
  push(entry: T): T | undefined {
    if (this.capacity === 0) return undefined;
    const evicted = this.#items[this.#next];
    this.#items[this.#next] = entry;
    this.#next = (this.#next + 1) % this.capacity;
    return evicted;
  }

  /** Newest first, optionally only those about `subject` or `pool` (each `ns/name`, or a bare name). */
  list(options: { limit?: number; subject?: string; pool?: string } = {}): T[] {
    const out: T[] = [];
    const limit = options.limit ?? this.capacity;
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const item = this.#items[(this.#next - i + this.capacity) % this.capacity];
      if (item === undefined) break;
      if (options.subject !== undefined && !sameObject(item.subject, options.subject)) continue;
      if (options.pool !== undefined && !sameObject(this.#poolOf(item), options.pool)) continue;
      out.push(item);
    }
    return out;
  }
}
