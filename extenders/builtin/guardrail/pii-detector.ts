/**
 * Finds and redacts personal data and credentials: every recognizer runs over the text, overlaps
 * go to the recognizer listed first (a token inside a `password=` line is the token; a card's digits
 * are not also a phone), findings below the threshold are dropped, and redaction keeps the text's
 * shape with typed placeholders (`[EMAIL]`, `[AWS_KEY]`) or a mask that keeps a card's last 4.
 * A detector of shapes and checksums, not of meaning: fast and predictable, blind to what has no shape.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { piiRecognizers } from './pii-recognizers.ts';
import type { Finding, Recognizer } from './recognizer.ts';
import { secretRecognizers } from './secret-recognizers.ts';

export type { Finding } from './recognizer.ts';
export { luhnValid } from './checksums.ts';

/** Secrets first: their prefixes are exact, and a key must not be half-claimed by a looser PII shape. */
function allRecognizers(defaultCountry?: CountryCode): Recognizer[] {
  return [...secretRecognizers(), ...piiRecognizers(defaultCountry)];
}

export const RECOGNIZERS: readonly Recognizer[] = allRecognizers();
/** A type may have more than one recognizer (shapes that share no literal to skip a text by). */
export const DETECTOR_TYPES: readonly string[] = [...new Set(RECOGNIZERS.map((r) => r.type))];

/** Findings below this confidence are not reported unless a threshold says otherwise. */
export const DEFAULT_THRESHOLD = 0.5;

export type Redaction = 'placeholder' | 'mask';

export interface DetectorOptions {
  /** Recognizer types to run (default all). */
  readonly types?: readonly string[];
  /** Region for phone numbers written without a country code (default US). */
  readonly defaultCountry?: CountryCode;
  readonly redaction?: Redaction;
}

/** Merges one recognizer's sorted findings into the sorted accepted ones, dropping overlaps: O(n + m). */
function mergeDisjoint(accepted: readonly Finding[], incoming: readonly Finding[]): Finding[] {
  if (incoming.length === 0) return accepted as Finding[];
  const out: Finding[] = [];
  let i = 0;
  for (const f of incoming) {
    while (i < accepted.length && (accepted[i] as Finding).end <= f.start) out.push(accepted[i++] as Finding);
    const next = accepted[i];
    const prev = out.at(-1);
    if ((next === undefined || f.end <= next.start) && (prev === undefined || prev.end <= f.start)) out.push(f);
  }
  while (i < accepted.length) out.push(accepted[i++] as Finding);
  return out;
}

/** Every letter and digit masked, separators kept; a card's last four digits stay readable. */
function mask(value: string, type: string): string {
  const keep = type === 'credit-card' || type === 'iban' ? 4 : 0;
  let digitsSeen = 0;
  const out = [...value];
  for (let i = out.length - 1; i >= 0; i--) {
    if (!/[A-Za-z0-9]/.test(out[i] as string)) continue;
    out[i] = digitsSeen++ < keep ? (out[i] as string) : '*';
  }
  return out.join('');
}

export class PiiDetector {
  readonly #recognizers: readonly Recognizer[];
  readonly #placeholders: ReadonlyMap<string, string>;
  readonly #redaction: Redaction;

  constructor(options: DetectorOptions = {}) {
    const all = options.defaultCountry === undefined ? RECOGNIZERS : allRecognizers(options.defaultCountry);
    const unknown = options.types?.filter((t) => !DETECTOR_TYPES.includes(t)) ?? [];
    if (unknown.length > 0) throw new TypeError(`unknown detector types ${unknown.join(', ')}; known: ${DETECTOR_TYPES.join(', ')}`);
    this.#recognizers = options.types === undefined ? all : all.filter((r) => options.types?.includes(r.type));
    this.#placeholders = new Map(all.map((r) => [r.type, r.placeholder]));
    this.#redaction = options.redaction ?? 'placeholder';
  }

  /** Findings at or above the threshold, in text order, never overlapping. */
  scan(text: string, threshold = DEFAULT_THRESHOLD): Finding[] {
    let accepted: Finding[] = [];
    for (const r of this.#recognizers) {
      const found: Finding[] = [];
      for (const f of r.find(text, accepted)) if (f.confidence >= threshold) found.push(f);
      accepted = mergeDisjoint(accepted, found);
    }
    return accepted;
  }

  /** Replaces each finding with its typed placeholder (`[EMAIL]`) or, in mask mode, with a mask of its shape. */
  redact(text: string, findings: readonly Finding[]): string {
    let out = '';
    let at = 0;
    for (const f of findings) {
      const value = text.slice(f.start, f.end);
      out += text.slice(at, f.start) + (this.#redaction === 'mask' ? mask(value, f.type) : `[${this.#placeholders.get(f.type) ?? f.type.toUpperCase()}]`);
      at = f.end;
    }
    return out + text.slice(at);
  }
}
