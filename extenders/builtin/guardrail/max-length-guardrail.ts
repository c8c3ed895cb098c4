/**
 * Built-in `max-length` guardrail (type `max-length`): blocks content longer than `maxChars`
 * (default 100000), before any other guardrail spends time on it.
 */
import { Type } from 'typebox';
import type { Guardrail, GuardrailRequest, GuardrailResult, PluginContext } from '../../../src/index.ts';
import { configReader } from '../plugin-config.ts';

export const DEFAULT_MAX_CHARS = 100_000;

const readConfig = configReader('max-length', Type.Object({ maxChars: Type.Optional(Type.Integer({ minimum: 1 })), action: Type.Optional(Type.Enum(['block', 'warn', 'log'])) }));

export class MaxLengthGuardrail implements Guardrail {
  name(): string {
    return 'max-length';
  }

  priority(): number {
    return 300;
  }

  getType(): string {
    return 'max-length';
  }

  check(ctx: PluginContext, request: GuardrailRequest): GuardrailResult {
    const config = readConfig(ctx.config);
    const max = config.maxChars ?? DEFAULT_MAX_CHARS;
    const length = request.content.length;
    if (length <= max) return { passed: true, action: 'allow', confidence: 1 };
    return { passed: false, action: config.action ?? 'block', reason: `content is ${length} characters; at most ${max} allowed`, confidence: 1 };
  }
}
