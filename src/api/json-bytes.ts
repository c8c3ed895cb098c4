/**
 * JSON text written straight into one growing UTF-8 buffer, for the extender's large replies, which
 * JSON.stringify or string appends would build far more slowly. Callers write the punctuation;
 * strings go through `string()`, which escapes exactly as JSON.stringify does.
 */

import type { ReplyBuffers } from './reply-buffers.ts';

/** What JSON.stringify escapes: quotes, backslashes, control characters, lone surrogates. */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Up to this many characters, a string is copied by hand when it is ASCII. */
const SHORT = 64;

export class JsonBytes {
  #buffer: Buffer;
  #at = 0;
  readonly #pool: ReplyBuffers | undefined;

  /** With a pool, the bytes are written into its buffers, and `done()`'s view goes back to it when read. */
  constructor(sizeHint = 1024, pool?: ReplyBuffers) {
    this.#pool = pool;
    this.#buffer = this.#allocate(Math.max(64, sizeHint));
  }

  #allocate(size: number): Buffer {
    return this.#pool === undefined ? Buffer.allocUnsafe(size) : this.#pool.take(size);
  }

  #room(bytes: number): void {
    if (this.#at + bytes <= this.#buffer.length) return;
    const grown = this.#allocate(Math.max(2 * this.#buffer.length, this.#at + bytes));
    this.#buffer.copy(grown, 0, 0, this.#at);
    this.#pool?.give(this.#buffer);
    this.#buffer = grown;
  }

  /**
   * Writes a string's UTF-8 bytes. Short ASCII strings — punctuation, node names — are copied a
   * character at a time: Buffer.write's own checks cost more than the copy for a dozen bytes, and a
   * reply makes thousands of such writes.
   */
  #text(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.#room(3 * text.length);
    const buffer = this.#buffer;
    const at = this.#at;
    if (text.length <= SHORT) {
      let i = 0;
      for (; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        buffer[at + i] = c;
      }
      if (i === text.length) {
        this.#at = at + i;
        return;
      }
    }
    this.#at = at + buffer.write(text, at);
  }

  /** Text that is already JSON (punctuation, numbers, a JSON.stringify result). */
  raw(json: string): this {
    this.#text(json);
    return this;
  }

  /** Bytes that are already JSON, such as a reason encoded once and written many times. */
  bytes(json: Uint8Array): this {
    this.#room(json.length);
    this.#buffer.set(json, this.#at);
    this.#at += json.length;
    return this;
  }

  /** A string value; names and reasons rarely need escaping, so most skip JSON.stringify. */
  string(value: string): this {
    if (value.length <= SHORT && this.#plainAscii(value)) return this;
    if (NEEDS_ESCAPING.test(value)) return this.raw(JSON.stringify(value));
    this.#room(3 * value.length + 2);
    this.#buffer[this.#at++] = QUOTE;
    this.#text(value);
    this.#buffer[this.#at++] = QUOTE;
    return this;
  }

  /** Writes `"value"` if it is ASCII needing no escape (the usual node name); false, writing nothing, if not. */
  #plainAscii(value: string): boolean {
    this.#room(value.length + 2);
    const buffer = this.#buffer;
    const at = this.#at;
    buffer[at] = QUOTE;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80 || c < 0x20 || c === QUOTE || c === BACKSLASH) return false;
      buffer[at + 1 + i] = c;
    }
    buffer[at + 1 + value.length] = QUOTE;
    this.#at = at + value.length + 2;
    return true;
  }

  /** The JSON written so far (a view of the buffer, not a copy). */
  done(): Buffer {
    return this.#buffer.subarray(0, this.#at);
  }
}
