/**
 * Screens a stream chunk by chunk. Each check sees the text held back from before plus the new
 * chunk, so a secret split across chunks is whole in one check; the last WINDOW characters are held
 * back raw (a value that may still be growing is never released half-seen) and everything before them
 * is released, redacted where the chain redacted. A private-key block runs far past any window: from
 * its BEGIN line until its END line arrives it is held back unscreened and raw, so the check that
 * finally sees it sees it whole, header and all (bounded: past MAX_OPEN_BLOCK the stream is cut).
 * The first block ends the stream.
 */
import type { GuardrailCheck } from './guardrail-service.ts';

/** Longer than any token the recognizers know (OpenAI project keys run to ~170 characters). */
export const WINDOW = 256;

/** The armour line that opens a PEM private-key block (the private-key recognizer's too). */
export const PRIVATE_KEY_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;

/** Held back at most while looking for a cut no redacted value straddles, and the step back between tries. */
export const MAX_HELD = 4 * WINDOW;
const CUT_STEP = 64;

/** Held back at most while a private-key block is open: far above an RSA-8192 key (about 6,500 characters). */
export const MAX_OPEN_BLOCK = 20_000;

export type StreamEvent = { readonly delta: string } | { readonly blocked: true; readonly blockedBy: string; readonly reason: string };

export interface Checker {
  check(input: GuardrailCheck): Promise<{ allowed: boolean; content: string; blockedBy?: string; reason?: string }>;
}

/** Where the last private-key BEGIN line wholly before `before` starts, or -1. */
function lastBegin(text: string, before: number): number {
  let start = -1;
  for (const m of text.slice(0, Math.max(0, before)).matchAll(new RegExp(PRIVATE_KEY_BEGIN))) start = m.index;
  return start;
}

/** Just past the END line of the block opening at `start`, or -1 while that line is not whole. */
function blockClose(text: string, start: number): number {
  const end = text.indexOf('-----END ', start);
  const close = end < 0 ? -1 : text.indexOf('-----', end + 9);
  return close < 0 ? -1 : close + 5;
}

/** Where a private-key block opens with no whole END line after it yet, or -1. */
function openBlockStart(text: string): number {
  const open = lastBegin(text, text.length);
  return open >= 0 && blockClose(text, open) < 0 ? open : -1;
}

/** The start of a whole private-key block that `at` falls inside, or `at` itself. */
function blockStartAround(text: string, at: number): number {
  const start = lastBegin(text, at);
  return start >= 0 && blockClose(text, start) > at ? start : at;
}

export class StreamScreen {
  readonly #checker: Checker;
  readonly #base: Omit<GuardrailCheck, 'content'>;
  /** Raw text held back, screened again with the next chunk. */
  #held = '';
  /** Raw text from an open private-key block's BEGIN line on, not screened yet. */
  #open = '';
  #done = false;
  #blocked: StreamEvent = { blocked: true, blockedBy: '(unknown)', reason: 'blocked' };

  constructor(checker: Checker, base: Omit<GuardrailCheck, 'content'>) {
    this.#checker = checker;
    this.#base = base;
  }

  get done(): boolean {
    return this.#done;
  }

  /** What may be released after this chunk (nothing once blocked). */
  async feed(chunk: string): Promise<StreamEvent[]> {
    if (this.#done) return [];
    const text = this.#held + this.#open + chunk;
    const open = openBlockStart(text);
    if (open < 0) {
      this.#open = '';
      return this.#screen(text, false);
    }
    this.#open = text.slice(open);
    if (this.#open.length > MAX_OPEN_BLOCK) {
      this.#done = true;
      return [{ blocked: true, blockedBy: 'stream-screen', reason: `a private-key block ran past ${MAX_OPEN_BLOCK} characters without its END line` }];
    }
    return this.#screen(text.slice(0, open), false);
  }

  /** The end of the stream: what is still held back, screened once more (an open block as it was cut off). */
  async end(): Promise<StreamEvent[]> {
    const text = this.#held + this.#open;
    this.#open = '';
    return this.#screen(text, true);
  }

  /** The text as the chain passes it on, or undefined once it blocked (the stream then ends with #blocked). */
  async #checked(text: string): Promise<string | undefined> {
    const outcome = await this.#checker.check({ ...this.#base, content: text });
    if (outcome.allowed) return outcome.content;
    this.#done = true;
    this.#blocked = { blocked: true, blockedBy: outcome.blockedBy ?? '(unknown)', reason: outcome.reason ?? 'blocked' };
    return undefined;
  }

  /**
   * Releases all but the last WINDOW characters and holds those back raw. Where the chain changed
   * the text, the cut must fall where screening the two sides apart gives what screening them
   * together gave: a value redacted across the cut (a JWT whose signature has not arrived) would
   * otherwise be released as a placeholder followed by its own rest. Past MAX_HELD without such a
   * point, the screened text is cut as it stands.
   */
  async #screen(text: string, last: boolean): Promise<StreamEvent[]> {
    if (this.#done) return [];
    this.#held = '';
    if (text === '') return [];
    const screened = await this.#checked(text);
    if (screened === undefined) return [this.#blocked];
    if (last) {
      this.#done = true;
      return screened === '' ? [] : [{ delta: screened }];
    }
    // A cut inside a whole key block is never safe: the tries start before the block, however long it is.
    const first = blockStartAround(text, text.length - WINDOW);
    for (let cut = first; cut > 0 && (cut === first || cut >= text.length - MAX_HELD); cut -= CUT_STEP) {
      let release = screened === text ? text.slice(0, cut) : undefined;
      if (release === undefined) {
        const head = await this.#checked(text.slice(0, cut));
        const tail = head === undefined ? undefined : await this.#checked(text.slice(cut));
        if (head === undefined || tail === undefined) return [this.#blocked];
        if (head + tail === screened) release = head;
      }
      if (release !== undefined) {
        this.#held = text.slice(cut);
        return release === '' ? [] : [{ delta: release }];
      }
    }
    if (text.length <= MAX_HELD) {
      this.#held = text;
      return [];
    }
    const cut = Math.max(0, screened.length - WINDOW);
    this.#held = screened.slice(cut);
    return cut === 0 ? [] : [{ delta: screened.slice(0, cut) }];
  }
}
