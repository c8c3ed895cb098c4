/**
 * JSON text written straight into one growing UTF-8 buffer, for the extender's large replies: a
 * string built by appending thousands of entries is a rope the socket must flatten and encode, and
 * JSON.stringify of thousands of small objects cost more than the plugins that scored them. Callers
 * write the punctuation; strings go through `string()`, which escapes exactly as JSON.stringify does.
 */

/** What JSON.stringify escapes: quotes, backslashes, control characters, lone surrogates. */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;
const QUOTE = 0x22;

export class JsonBytes {
  #buffer: Buffer;
  #at = 0;

  constructor(sizeHint = 1024) {
    this.#buffer = Buffer.allocUnsafe(Math.max(64, sizeHint));
  }

  #room(bytes: number): void {
    if (this.#at + bytes <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.#buffer.length, this.#at + bytes));
    this.#buffer.copy(grown, 0, 0, this.#at);
    this.#buffer = grown;
  }

  /** Text that is already JSON (punctuation, numbers, a JSON.stringify result). */
  raw(json: string): this {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.#room(3 * json.length);
    this.#at += this.#buffer.write(json, this.#at);
    return this;
  }

  /** Bytes that are already JSON, such as a reason encoded once and written many times. */
  bytes(json: Buffer): this {
    this.#room(json.length);
    this.#at += json.copy(this.#buffer, this.#at);
    return this;
  }

  /** A string value; names and reasons rarely need escaping, so most skip JSON.stringify. */
  string(value: string): this {
    if (NEEDS_ESCAPING.test(value)) return this.raw(JSON.stringify(value));
    this.#room(3 * value.length + 2);
    this.#buffer[this.#at++] = QUOTE;
    this.#at += this.#buffer.write(value, this.#at);
    this.#buffer[this.#at++] = QUOTE;
    return this;
  }

  /** The JSON written so far (a view of the buffer, not a copy). */
  done(): Buffer {
    return this.#buffer.subarray(0, this.#at);
  }
}
