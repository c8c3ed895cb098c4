/**
 * Built-in `jailbreak-heuristic` guardrail (type `jailbreak-detection`): screens prompts, answers,
 * tool arguments and tool results for instruction-override attacks and known jailbreak templates,
 * after normalising the text and decoding payloads hidden in it (injection-screen.ts). Each rule
 * that matched is reported with its confidence and reason; together they combine. Config:
 * `patterns` (extra regular expressions, case-insensitive), `action` (default block).
 */
import { Type } from 'typebox';
import type { Guardrail, GuardrailRequest, GuardrailResult, PluginContext } from '../../../src/index.ts';
import { configReader } from '../plugin-config.ts';
import { combined, InjectionScreen } from './injection-screen.ts';

const JailbreakConfig = Type.Object({
  patterns: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  action: Type.Optional(Type.Enum(['block', 'warn', 'log'])),
});

const readConfig = configReader('jailbreak-heuristic', JailbreakConfig);
const screens = new WeakMap<object, InjectionScreen>();

export class JailbreakHeuristicGuardrail implements Guardrail {
  name(): string {
    return 'jailbreak-heuristic';
  }

  /** Cheap and decisive: before the guardrails that rewrite content. */
  priority(): number {
    return 200;
  }

  getType(): string {
    return 'jailbreak-detection';
  }

  check(ctx: PluginContext, request: GuardrailRequest): GuardrailResult {
    const config = readConfig(ctx.config);
    let screen = screens.get(config);
    if (screen === undefined) screens.set(config, (screen = new InjectionScreen(config.patterns)));
    const findings = screen.screen(request.content, request.direction);
    if (findings.length === 0) return { passed: true, action: 'allow', confidence: 0.6 };
    return {
      passed: false,
      action: config.action ?? 'block',
      reason: findings.map((f) => `${f.reason} (${f.confidence})`).join('; '),
      confidence: combined(findings),
      metadata: { matches: String(findings.length), rules: findings.map((f) => f.rule).join(',') },
    };
  }
}
