/**
 * Built-in `pii-regex` guardrail (type `pii-detection`): finds personal data and credentials (every
 * recognizer in RECOGNIZERS by default) and redacts them. Config: `types` (a subset), `action` (on a
 * finding: redact, block, warn or log; an AgentClass entry overrides it), `redaction` (`placeholder`
 * or `mask`), `threshold` (per finding, default 0.5; the AgentClass's threshold wins) and
 * `defaultCountry` (for phone numbers written without a country code).
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { Type } from 'typebox';
import type { Guardrail, GuardrailRequest, GuardrailResult, PluginContext } from '../../../src/index.ts';
import { configReader } from '../plugin-config.ts';
import { DEFAULT_THRESHOLD, DETECTOR_TYPES, PiiDetector, type Finding } from './pii-detector.ts';

const PiiConfig = Type.Object({
  types: Type.Optional(Type.Array(Type.Enum([...DETECTOR_TYPES]), { minItems: 1 })),
  action: Type.Optional(Type.Enum(['redact', 'block', 'warn', 'log'])),
  redaction: Type.Optional(Type.Enum(['placeholder', 'mask'])),
  threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  defaultCountry: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
});

const readConfig = configReader('pii-regex', PiiConfig);
const detectors = new WeakMap<object, PiiDetector>();

/** The guide's result for findings: how many, which kinds, and the content with them redacted. */
export function piiResult(detector: PiiDetector, content: string, findings: readonly Finding[], action: GuardrailResult['action']): GuardrailResult {
  const types = [...new Set(findings.map((f) => f.type))];
  return {
    passed: false,
    action,
    reason: `Found ${findings.length} PII instance${findings.length === 1 ? '' : 's'} (${types.join(', ')})`,
    confidence: Math.max(...findings.map((f) => f.confidence)),
    metadata: { redacted_content: detector.redact(content, findings), pii_types: types.join(','), findings: String(findings.length) },
  };
}

export class PiiRegexGuardrail implements Guardrail {
  name(): string {
    return 'pii-regex';
  }

  priority(): number {
    return 100;
  }

  getType(): string {
    return 'pii-detection';
  }

  check(ctx: PluginContext, request: GuardrailRequest): GuardrailResult {
    const config = readConfig(ctx.config);
    let detector = detectors.get(config);
    if (detector === undefined) {
      detector = new PiiDetector({
        ...(config.types !== undefined ? { types: config.types } : {}),
        ...(config.redaction !== undefined ? { redaction: config.redaction } : {}),
        ...(config.defaultCountry !== undefined ? { defaultCountry: config.defaultCountry as CountryCode } : {}),
      });
      detectors.set(config, detector);
    }
    const findings = detector.scan(request.content, request.threshold ?? config.threshold ?? DEFAULT_THRESHOLD);
    if (findings.length === 0) return { passed: true, action: 'allow', confidence: 1 };
    return piiResult(detector, request.content, findings, config.action ?? 'redact');
  }
}
