/**
 * Buffers for the extender's large replies, taken back once a reply has been written and reused by the
 * next: V8 answers off-heap churn with full collections, whose pauses would set the latency's tail.
 */

/** Replies past this size (full-node mode's NodeLists) are rare and large: not worth keeping. */
const MAX_POOLED_BYTES = 1 << 20;

export class ReplyBuffers {
  readonly #free: Buffer[] = [];
  /**
   * The backing stores handed out and not yet given back: only those are taken back, once each, and
   * never a view of Node's shared slab.
   */
  readonly #lent = new WeakSet<ArrayBufferLike>();
  readonly #max: number;

  /** `max`: buffers kept between replies; as many as replies written at once is plenty. */
  constructor(max = 8) {
    this.#max = max;
  }

  /** A buffer of at least `size` bytes, whose contents are garbage. */
  take(size: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const length = (this.#free[i] as Buffer).length;
      if (length >= size && (best < 0 || length < (this.#free[best] as Buffer).length)) best = i;
    }
    const buffer = best >= 0 ? (this.#free.splice(best, 1)[0] as Buffer) : Buffer.allocUnsafeSlow(size);
    this.#lent.add(buffer.buffer);
    return buffer;
  }

  /**
   * Takes back a buffer from `take()`, or any view of one, once nothing reads it any more: for a
   * reply, when the response has been handed to the socket. Anything else is ignored.
   */
  give(view: Uint8Array): void {
    const store = view.buffer;
    if (!this.#lent.delete(store) || store.byteLength > MAX_POOLED_BYTES) return;
    const whole = Buffer.from(store);
    if (this.#free.length < this.#max) {
      this.#free.push(whole);
      return;
    }
    // Full: keep the larger buffers, which serve any reply the smaller could.
    let smallest = 0;
    for (let i = 1; i < this.#free.length; i++) if ((this.#free[i] as Buffer).length < (this.#free[smallest] as Buffer).length) smallest = i;
    if ((this.#free[smallest] as Buffer).length < whole.length) this.#free[smallest] = whole;
  }
}
