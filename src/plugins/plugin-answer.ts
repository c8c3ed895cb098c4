/** Plugin answers of the wrong shape: told apart from verdicts, and quoted safely in errors. */

/** The most of a malformed answer an error message quotes: the answer may be megabytes, or cyclic. */
const QUOTED_ANSWER_CHARS = 200;

/** A short, safe rendering of any value a plugin answered, for error messages and the trace. */
export function describeAnswer(value: unknown): string {
  let text: string | undefined;
  try {
    text = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    text =
      typeof value === 'object' && value !== null
        ? `a ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'null-prototype'} object`
        : String(value);
  }
  return text.length > QUOTED_ANSWER_CHARS ? `${text.slice(0, QUOTED_ANSWER_CHARS)}… (${text.length} chars)` : text;
}

/** A plugin answered something of the wrong shape: that plugin's error, never a verdict. */
export class MalformedAnswerError extends TypeError {
  constructor(method: string, value: unknown, expected: string) {
    super(`${method} returned ${describeAnswer(value)}; expected ${expected}`);
    this.name = 'MalformedAnswerError';
  }
}
