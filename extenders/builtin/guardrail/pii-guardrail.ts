/**
 * Built-in `pii-regex` guardrail (type `pii-detection`): redacts e-mail addresses, phone numbers,
 * card numbers and SSNs by default. Config: `types` (a subset of PII_TYPES), `action` (what to do on a
 * finding: redact, block, warn or log; an AgentClass entry overrides it).
 */
import { Type } from 'typebox';
import type { Guardrail, GuardrailRequest, GuardrailResult, PluginContext } from '../../../src/index.ts';
import { configReader } from '../plugin-config.ts';
import { PII_CONFIDENCE, PII_TYPES, PiiDetector, type PiiFinding, type PiiType } from './pii-detector.ts';

const PiiConfig = Type.Object({
  types: Type.Optional(Type.Array(Type.Enum([...PII_TYPES]), { minItems: 1 })),
  action: Type.Optional(Type.Enum(['redact', 'block', 'warn', 'log'])),
});

const readConfig = configReader('pii-regex', PiiConfig);
const detectors = new WeakMap<object, PiiDetector>();

/** The guide's result for findings: how many, which kinds, and the content with them redacted. */
function piiResult(detector: PiiDetector, content: string, findings: readonly PiiFinding[], action: GuardrailResult['action']): GuardrailResult {
  const types = [...new Set(findings.map((f) => f.type))];
  return {
    passed: false,
    action,
    reason: `Found ${findings.length} PII instance${findings.length === 1 ? '' : 's'} (${types.join(', ')})`,
    confidence: Math.max(...findings.map((f) => PII_CONFIDENCE[f.type])),
    metadata: { redacted_content: detector.redact(content, findings), pii_types: types.join(',') },
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
    if (detector === undefined) detectors.set(config, (detector = new PiiDetector((config.types as PiiType[] | undefined) ?? PII_TYPES)));
    const findings = detector.scan(request.content);
    if (findings.length === 0) return { passed: true, action: 'allow', confidence: 1 };
    return piiResult(detector, request.content, findings, config.action ?? 'redact');
  }
}
