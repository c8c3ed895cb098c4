/**
 * Built-in `max-length` guardrail (type `max-length`): blocks content longer than `maxChars`
 * (default 100000), before any other guardrail spends time on it.
 */
import { Type } from 'typebox';
import { definePlugin, type GuardrailRequest, type GuardrailResult } from 'neuronetes';

export const DEFAULT_MAX_CHARS = 100_000;

export const maxLength = definePlugin({
  type: 'guardrail',
  name: 'max-length',
  priority: 300,
  config: Type.Object(
    {
      maxChars: Type.Integer({ minimum: 1, default: DEFAULT_MAX_CHARS }),
      action: Type.Enum(['block', 'warn', 'log'], { default: 'block' }),
    },
    { additionalProperties: false },
  ),
  create: (config) => ({
    getType: (): string => 'max-length',
    check(_ctx, request: GuardrailRequest): GuardrailResult {
      const length = request.content.length;
      if (length <= config.maxChars) return { passed: true, action: 'allow', confidence: 1 };
      return { passed: false, action: config.action, reason: `content is ${length} characters; at most ${config.maxChars} allowed`, confidence: 1 };
    },
  }),
});
