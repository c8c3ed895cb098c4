/**
 * Screens a stream chunk by chunk. Each check sees the text held back from before plus the new
 * chunk, so a secret split across chunks is whole in one check; the last WINDOW characters are held
 * back (a value that may still be growing is never released half-seen) and everything before them
 * is released, redacted where the chain redacted. The first block ends the stream.
 */
import type { GuardrailCheck } from './guardrail-service.ts';

/** Longer than any token the recognizers know (OpenAI project keys run to ~170 characters). */
export const WINDOW = 256;

export type StreamEvent = { readonly delta: string } | { readonly blocked: true; readonly blockedBy: string; readonly reason: string };

export interface Checker {
  check(input: GuardrailCheck): Promise<{ allowed: boolean; content: string; blockedBy?: string; reason?: string }>;
}

export class StreamScreen {
  readonly #checker: Checker;
  readonly #base: Omit<GuardrailCheck, 'content'>;
  #held = '';
  #done = false;

  constructor(checker: Checker, base: Omit<GuardrailCheck, 'content'>) {
    this.#checker = checker;
    this.#base = base;
  }

  get done(): boolean {
    return this.#done;
  }

  /** What may be released after this chunk (nothing once blocked). */
  async feed(chunk: string): Promise<StreamEvent[]> {
    return this.#screen(this.#held + chunk, false);
  }

  /** The end of the stream: what is still held back, screened once more. */
  async end(): Promise<StreamEvent[]> {
    return this.#screen(this.#held, true);
  }

  async #screen(text: string, last: boolean): Promise<StreamEvent[]> {
    if (this.#done) return [];
    if (text === '') return [];
    const outcome = await this.#checker.check({ ...this.#base, content: text });
    if (!outcome.allowed) {
      this.#done = true;
      return [{ blocked: true, blockedBy: outcome.blockedBy ?? '(unknown)', reason: outcome.reason ?? 'blocked' }];
    }
    // The held-back tail is kept as screened (placeholders already in), and screened again with the next chunk.
    const cut = last ? outcome.content.length : Math.max(0, outcome.content.length - WINDOW);
    this.#held = outcome.content.slice(cut);
    if (last) this.#done = true;
    return cut === 0 ? [] : [{ delta: outcome.content.slice(0, cut) }];
  }
}
