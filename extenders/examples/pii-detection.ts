/**
 * The plugin guide's guardrail example, in TypeScript: `pii-detection` finds personal data and
 * answers `redact` with the redacted content, confidence 0.95, and the kinds found in `pii_types`.
 * The detector is the built-in one (extenders/builtin/guardrail/pii-detector.ts), which the built-in
 * `pii-regex` guardrail also uses; this file is the guide's plugin shape around it.
 *
 * Load it with `plugins: [neuronetes:examples/pii-detection]` and enable it under
 * `guardrail-plugins:`; the shipped config loads it disabled.
 */
import { registerGuardrail, type Guardrail, type GuardrailRequest, type GuardrailResult, type PluginContext } from '../../src/index.ts';
import { PiiDetector } from '../builtin/guardrail/pii-detector.ts';

export class PiiDetectionGuardrail implements Guardrail {
  readonly #detector = new PiiDetector();

  name(): string {
    return 'pii-detection';
  }

  check(_ctx: PluginContext, request: GuardrailRequest): GuardrailResult {
    const findings = this.#detector.scan(request.content, request.threshold);
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
