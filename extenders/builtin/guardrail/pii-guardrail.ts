/**
 * Built-in `pii-regex` guardrail (type `pii-detection`): finds personal data and credentials (every
 * recognizer in RECOGNIZERS unless `types` names a subset) and redacts them. Config: `action` (on a
 * finding: redact, block, warn or log; an AgentClass entry overrides it), `redaction` (`placeholder`
 * or `mask`), `threshold` (per finding, default 0.5; the AgentClass's threshold wins) and
 * `defaultCountry` (for phone numbers written without a country code; US when unset).
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { Type } from 'typebox';
import { definePlugin, type GuardrailAction, type GuardrailRequest, type GuardrailResult } from 'neuronetes';
import { DEFAULT_THRESHOLD, DETECTOR_TYPES, PiiDetector, type Finding } from './pii-detector.ts';

/** The guide's result for findings: how many, which kinds, and the content with them redacted. */
function piiResult(detector: PiiDetector, content: string, findings: readonly Finding[], action: GuardrailAction): GuardrailResult {
  const types = [...new Set(findings.map((f) => f.type))];
  return {
    passed: false,
    action,
    reason: `Found ${findings.length} PII instance${findings.length === 1 ? '' : 's'} (${types.join(', ')})`,
    confidence: Math.max(...findings.map((f) => f.confidence)),
    metadata: { redacted_content: detector.redact(content, findings), pii_types: types.join(','), findings: String(findings.length) },
  };
}

export const piiRegex = definePlugin({
  type: 'guardrail',
  name: 'pii-regex',
  priority: 100,
  config: Type.Object(
    {
      types: Type.Optional(Type.Array(Type.Enum([...DETECTOR_TYPES]), { minItems: 1 })),
      action: Type.Enum(['redact', 'block', 'warn', 'log'], { default: 'redact' }),
      redaction: Type.Enum(['placeholder', 'mask'], { default: 'placeholder' }),
      threshold: Type.Number({ minimum: 0, maximum: 1, default: DEFAULT_THRESHOLD }),
      defaultCountry: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    },
    { additionalProperties: false },
  ),
  create(config) {
    const detector = new PiiDetector({
      redaction: config.redaction,
      ...(config.types !== undefined ? { types: config.types } : {}),
      ...(config.defaultCountry !== undefined ? { defaultCountry: config.defaultCountry as CountryCode } : {}),
    });
    return {
      getType: (): string => 'pii-detection',
      check(_ctx, request: GuardrailRequest): GuardrailResult {
        const findings = detector.scan(request.content, request.threshold ?? config.threshold);
        if (findings.length === 0) return { passed: true, action: 'allow', confidence: 1 };
        return piiResult(detector, request.content, findings, config.action);
      },
    };
  },
});
