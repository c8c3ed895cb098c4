/**
 * Built-in `jailbreak-heuristic` guardrail (type `jailbreak-detection`): screens prompts, answers,
 * tool arguments and tool results for instruction-override attacks and known jailbreak templates,
 * after normalising the text and decoding payloads hidden in it (injection-screen.ts). Each rule
 * that matched is reported with its confidence and reason; together they combine. Config:
 * `patterns` (extra regular expressions, case-insensitive), `action` (default block).
 */
import { Type } from 'typebox';
import { definePlugin, type GuardrailRequest, type GuardrailResult } from 'neuronetes';
import { combined, InjectionScreen } from './injection-screen.ts';

export const jailbreakHeuristic = definePlugin({
  type: 'guardrail',
  name: 'jailbreak-heuristic',
  // Cheap and decisive: before the guardrails that rewrite content.
  priority: 200,
  config: Type.Object(
    {
      patterns: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
      action: Type.Enum(['block', 'warn', 'log'], { default: 'block' }),
    },
    { additionalProperties: false },
  ),
  create(config) {
    // A bad regular expression fails the config when the plugin set is built, not a request.
    for (const [i, p] of config.patterns.entries()) {
      try {
        new RegExp(p, 'is');
      } catch (e: unknown) {
        throw new Error(`config.patterns[${i}] is ${JSON.stringify(p)}; it must be a regular expression (${(e as Error).message})`, { cause: e });
      }
    }
    const screen = new InjectionScreen(config.patterns);
    return {
      getType: (): string => 'jailbreak-detection',
      check(_ctx, request: GuardrailRequest): GuardrailResult {
        const findings = screen.screen(request.content, request.direction);
        if (findings.length === 0) return { passed: true, action: 'allow', confidence: 0.6 };
        return {
          passed: false,
          action: config.action,
          reason: findings.map((f) => `${f.reason} (${f.confidence})`).join('; '),
          confidence: combined(findings),
          metadata: { matches: String(findings.length), rules: findings.map((f) => f.rule).join(',') },
        };
      },
    };
  },
});
