/** The last N decisions of one kind, newest first, for /debug/plugins/<type>/trace. */
export interface TraceEntry {
  readonly id: number;
  readonly time: string;
  /** Who the decision was about: `namespace/name` of a pod or a pool. */
  readonly subject: string;
}

export class TraceBuffer<T extends TraceEntry> {
  readonly #items: (T | undefined)[];
  #next = 0;
  #seq = 0;

  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
  }

  nextId(): number {
    return ++this.#seq;
  }

  push(entry: T): void {
    if (this.capacity === 0) return;
    this.#items[this.#next] = entry;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Newest first, optionally only those about `subject` (exact `ns/name`, or a bare name). */
  list(options: { limit?: number; subject?: string } = {}): T[] {
    const out: T[] = [];
    const limit = options.limit ?? this.capacity;
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const item = this.#items[(this.#next - i + this.capacity) % this.capacity];
      if (item === undefined) break;
      if (options.subject !== undefined && item.subject !== options.subject && !item.subject.endsWith(`/${options.subject}`)) continue;
      out.push(item);
    }
    return out;
  }
}
