/**
 * Finds and redacts personal data in text with regular expressions: e-mail addresses, phone numbers,
 * payment card numbers (Luhn-checked, so order numbers rarely match) and US social security numbers.
 * A detector of patterns, not of meaning: it is fast and predictable, and misses what has no shape.
 */
export const PII_TYPES = ['credit-card', 'ssn', 'email', 'phone'] as const;
export type PiiType = (typeof PII_TYPES)[number];

export interface PiiFinding {
  readonly type: PiiType;
  readonly start: number;
  readonly end: number;
}

/** How sure a match of each kind is to be what it looks like. */
export const PII_CONFIDENCE: Readonly<Record<PiiType, number>> = { 'credit-card': 0.95, ssn: 0.9, email: 0.95, phone: 0.75 };

/** Most specific first: a card number contains digit runs that also look like phone numbers. */
const PATTERNS: readonly (readonly [PiiType, RegExp])[] = [
  ['credit-card', /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g],
  ['ssn', /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g],
  // Starts only where a local part can start and every run is bounded (RFC 5321 lengths), so each
  // start costs a constant: linear in the text, where the unbounded form backtracked quadratically.
  ['email', /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g],
  ['phone', /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?!\d)/g],
];

/** The Luhn checksum every payment card number satisfies. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export class PiiDetector {
  readonly #types: ReadonlySet<PiiType>;

  constructor(types: readonly PiiType[] = PII_TYPES) {
    this.#types = new Set(types);
  }

  /** Findings in text order, never overlapping. */
  scan(text: string): PiiFinding[] {
    const found: PiiFinding[] = [];
    const overlaps = (start: number, end: number): boolean => found.some((f) => start < f.end && f.start < end);
    for (const [type, pattern] of PATTERNS) {
      if (!this.#types.has(type)) continue;
      for (const m of text.matchAll(pattern)) {
        const start = m.index;
        const end = start + m[0].length;
        if (type === 'credit-card' && !luhnValid(m[0].replace(/[ -]/g, ''))) continue;
        if (!overlaps(start, end)) found.push({ type, start, end });
      }
    }
    return found.sort((a, b) => a.start - b.start);
  }

  /** Replaces each finding with `[REDACTED:<TYPE>]`. */
  redact(text: string, findings: readonly PiiFinding[]): string {
    let out = '';
    let at = 0;
    for (const f of findings) {
      out += `${text.slice(at, f.start)}[REDACTED:${f.type.toUpperCase()}]`;
      at = f.end;
    }
    return out + text.slice(at);
  }
}
