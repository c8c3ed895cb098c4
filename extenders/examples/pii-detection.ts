/**
 * The plugin guide's guardrail example, in TypeScript: `pii-detection` finds personal data and
 * answers `redact` with the redacted content, confidence 0.95, and the kinds found in `pii_types`.
 * Its detector is a few patterns, enough to show the shape; the built-in `pii-regex` guardrail is the
 * one to run in production (validators, context words, many more kinds).
 *
 * Load it with `plugins: [neuronetes:examples/pii-detection]` and enable it under
 * `guardrail-plugins:`; the shipped config loads it disabled.
 */
import { registerGuardrail, type Guardrail, type GuardrailRequest, type GuardrailResult, type PluginContext } from 'neuronetes';

interface Finding {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/** A card number passes the Luhn check; other digit runs of that length are not cards. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

const KINDS: readonly { type: string; token: string; pattern: RegExp; valid?: (text: string) => boolean }[] = [
  { type: 'email', token: '[EMAIL]', pattern: /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g },
  // Area 000, 666 and 900-999, group 00 and serial 0000 are never issued.
  { type: 'ssn', token: '[US_SSN]', pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g },
  { type: 'credit-card', token: '[CREDIT_CARD]', pattern: /\b\d(?:[ -]?\d){12,18}\b/g, valid: (text) => luhn(text.replace(/\D/g, '')) },
];

export class PiiDetector {
  scan(content: string): Finding[] {
    const findings: Finding[] = [];
    for (const kind of KINDS) {
      for (const m of content.matchAll(kind.pattern)) {
        if (kind.valid === undefined || kind.valid(m[0])) findings.push({ type: kind.type, start: m.index, end: m.index + m[0].length });
      }
    }
    return findings.sort((a, b) => a.start - b.start);
  }

  redact(content: string, findings: readonly Finding[]): string {
    let out = '';
    let at = 0;
    for (const f of findings) {
      if (f.start < at) continue; // overlaps the one before
      out += `${content.slice(at, f.start)}${KINDS.find((k) => k.type === f.type)?.token ?? '[PII]'}`;
      at = f.end;
    }
    return out + content.slice(at);
  }
}

export class PiiDetectionGuardrail implements Guardrail {
  readonly #detector = new PiiDetector();

  name(): string {
    return 'pii-detection';
  }

  check(_ctx: PluginContext, request: GuardrailRequest): GuardrailResult {
    const findings = this.#detector.scan(request.content);
    if (findings.length > 0) {
      return {
        passed: false,
        action: 'redact',
        reason: `Found ${findings.length} PII instances`,
        confidence: 0.95,
        metadata: {
          redacted_content: this.#detector.redact(request.content, findings),
          pii_types: findings.map((f) => f.type).join(','),
        },
      };
    }
    return { passed: true, action: 'allow', confidence: 1.0 };
  }

  getType(): string {
    return 'pii-detection';
  }
}

registerGuardrail(new PiiDetectionGuardrail());
