/**
 * A recognizer finds one kind of sensitive value: a linear-time pattern proposes candidates, a
 * validator (checksum, issuer table, phone metadata, entropy) confirms them and sets a confidence,
 * and words near a match raise or lower it, as Presidio's context enhancer does.
 */

export interface Finding {
  /** Kebab-case type name, e.g. `credit-card`, `aws-access-key`. */
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly confidence: number;
}

export interface Recognizer {
  readonly type: string;
  /** What redaction writes in its place, without brackets: `EMAIL`, `AWS_KEY`. */
  readonly placeholder: string;
  readonly kind: 'pii' | 'secret';
  /** A checksum or a library's rule set confirms each match (these are held to a higher precision). */
  readonly validated: boolean;
  /**
   * Candidates in text order, never overlapping each other; linear-time in the text. `claimed` are
   * the spans earlier recognizers hold (sorted, disjoint): a candidate overlapping one would be
   * dropped, so it need not be validated.
   */
  find(text: string, claimed?: readonly Finding[]): Iterable<Finding>;
}

/** Presidio's context enhancement: a context word nearby adds this much, and lifts to at least the floor. */
const CONTEXT_BOOST = 0.35;
const CONTEXT_FLOOR = 0.4;
/** A word that says "this is not one" (order, version…) takes this much away. */
const AGAINST_PENALTY = 0.45;
const WINDOW_BEFORE = 48;
const WINDOW_AFTER = 16;

export interface PatternSpec {
  readonly type: string;
  readonly placeholder: string;
  readonly kind?: 'pii' | 'secret';
  /**
   * Global; must start at a boundary (a lookbehind or a literal) and bound every run. Or a function
   * giving the spans such a pattern would match, where a table scan finds them for less.
   */
  readonly pattern: RegExp | ((text: string) => Iterable<readonly [start: number, end: number]>);
  /** Capture group holding the value to report (default the whole match); the pattern needs the `d` flag. */
  readonly group?: number;
  /** Confidence of a match the validator accepts (or of any match, without one). */
  readonly score: number;
  /** Confirms a match: false rejects it, a number replaces the score. */
  readonly validate?: (value: string, text: string, start: number) => boolean | number;
  /**
   * At most this many validations per scan, for validators that cost tens of microseconds (phone
   * metadata): past it, candidates count on their shape alone, so a text packed with candidates
   * costs bounded work and is redacted rather than let through.
   */
  readonly validateBudget?: number;
  readonly validated?: boolean;
  /** Lower-case words that make this type likelier nearby. */
  readonly context?: readonly string[];
  /** Lower-case words that make it unlikelier nearby. */
  readonly against?: readonly string[];
  /** A substring without which the pattern cannot match: text without it skips the scan. */
  readonly hint?: string;
}

/** Literal words, any case, as one pattern: one search per window instead of one per word. */
class Words {
  readonly #pattern: RegExp;
  readonly #longest: number;

  constructor(words: readonly string[]) {
    this.#pattern = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');
    this.#longest = Math.max(...words.map((w) => w.length));
  }

  /** End of the last word wholly inside [from, to), or -1. */
  lastEndIn(text: string, from: number, to: number): number {
    const window = text.slice(from, to);
    let end = -1;
    this.#pattern.lastIndex = 0;
    for (let m = this.#pattern.exec(window); m !== null; m = this.#pattern.exec(window)) end = from + this.#pattern.lastIndex;
    return end;
  }

  /** Whether a word starts in [from, to). */
  startsIn(text: string, from: number, to: number): boolean {
    this.#pattern.lastIndex = 0;
    const m = this.#pattern.exec(text.slice(from, to + this.#longest - 1));
    return m !== null && m.index < to - from;
  }
}

/** The words before a match count within its own line. */
function lineStart(text: string, start: number): number {
  const from = Math.max(0, start - WINDOW_BEFORE);
  // Searched within the window only: lastIndexOf on the whole text would rescan it per finding.
  return from + text.slice(from, start).lastIndexOf('\n') + 1;
}

/**
 * Confidence after the words around the match: before it, within its line, the nearer kind wins
 * ("order 4111…" against, "Phone: …" for); context words also count just after it. Only the
 * window is searched: indexing the whole text per recognizer cost more than all the windows of a
 * typical text together.
 */
function withContext(score: number, text: string, start: number, end: number, context: Words | undefined, against: Words | undefined): number {
  let s = score;
  const from = lineStart(text, start);
  const forIt = context?.lastEndIn(text, from, start) ?? -1;
  const againstIt = against?.lastEndIn(text, from, start) ?? -1;
  if (againstIt > forIt) s -= AGAINST_PENALTY;
  else if (forIt >= 0 || context?.startsIn(text, end, end + WINDOW_AFTER) === true) s = Math.max(CONTEXT_FLOOR, s + CONTEXT_BOOST);
  return Math.round(Math.min(1, Math.max(0, s)) * 100) / 100;
}

/**
 * The spans of a global pattern's matches, or of a capture group's (the pattern then has the `d` flag).
 * An exec loop on a copy the recognizer owns: matchAll clones the pattern on every call (7% of a short check).
 */
function matchSpans(pattern: RegExp, group: number | undefined): (text: string) => (readonly [number, number])[] {
  const own = new RegExp(pattern);
  return (text) => {
    const spans: (readonly [number, number])[] = [];
    own.lastIndex = 0;
    for (let m = own.exec(text); m !== null; m = own.exec(text)) {
      if (m[0].length === 0) own.lastIndex++;
      const span = group === undefined ? ([m.index, m.index + m[0].length] as const) : m.indices?.[group];
      if (span !== undefined) spans.push(span);
    }
    return spans;
  };
}

export function patternRecognizer(spec: PatternSpec): Recognizer {
  const { type, pattern, group, score, validate, hint } = spec;
  const spans = typeof pattern === 'function' ? pattern : matchSpans(pattern, group);
  const budget = spec.validateBudget ?? Infinity;
  const context = spec.context === undefined || spec.context.length === 0 ? undefined : new Words(spec.context);
  const against = spec.against === undefined || spec.against.length === 0 ? undefined : new Words(spec.against);
  if (pattern instanceof RegExp && !pattern.global) throw new TypeError(`${type}: the pattern must be global`);
  return {
    type,
    placeholder: spec.placeholder,
    kind: spec.kind ?? 'pii',
    validated: spec.validated ?? false,
    // An array rather than a generator: the generator's resumptions were a tenth of a scan.
    find(text: string, claimed: readonly Finding[] = []): Finding[] {
      const found: Finding[] = [];
      if (hint !== undefined && !text.includes(hint)) return found;
      let validations = 0;
      let c = 0;
      for (const [start, end] of spans(text)) {
        while (c < claimed.length && (claimed[c] as Finding).end <= start) c++;
        if (c < claimed.length && (claimed[c] as Finding).start < end) continue;
        const value = text.slice(start, end);
        const verdict = validate === undefined || validations++ >= budget ? true : validate(value, text, start);
        if (verdict === false) continue;
        const base = verdict === true ? score : verdict;
        const confidence = withContext(base, text, start, end, context, against);
        if (confidence > 0) found.push({ type, start, end, confidence });
      }
      return found;
    },
  };
}
