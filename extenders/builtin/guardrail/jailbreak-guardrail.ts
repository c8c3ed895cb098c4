/**
 * Built-in `jailbreak-heuristic` guardrail (type `jailbreak-detection`): blocks prompts that use the
 * well-worn phrasings of instruction-override attacks. Phrase matching catches the lazy attempts
 * only; each extra distinct phrase raises the confidence. Config: `patterns` (extra regular
 * expressions, case-insensitive), `action` (default block).
 */
import { Type } from 'typebox';
import type { Guardrail, GuardrailRequest, GuardrailResult, PluginContext } from '../../../src/index.ts';
import { configReader } from '../plugin-config.ts';

const BUILTIN_PATTERNS = [
  String.raw`\b(ignore|disregard|forget)\b.{0,30}\b(previous|prior|above|earlier|all|your)\b.{0,20}\b(instructions|rules|prompts?|guidelines)\b`,
  String.raw`\b(reveal|print|show|repeat)\b.{0,30}\b(system|hidden|initial)\s+(prompt|instructions)\b`,
  String.raw`\byou are now\b.{0,40}\b(DAN|unfiltered|unrestricted|jailbroken)\b`,
  String.raw`\b(developer|god|jailbreak)\s+mode\b`,
  String.raw`\b(pretend|act as if)\b.{0,40}\b(no|without)\s+(restrictions|rules|filters|limits)\b`,
];

const JailbreakConfig = Type.Object({
  patterns: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  action: Type.Optional(Type.Enum(['block', 'warn', 'log'])),
});

const readConfig = configReader('jailbreak-heuristic', JailbreakConfig);
const compiled = new WeakMap<object, RegExp[]>();

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
    let patterns = compiled.get(config);
    if (patterns === undefined) compiled.set(config, (patterns = [...BUILTIN_PATTERNS, ...(config.patterns ?? [])].map((p) => new RegExp(p, 'is'))));
    const hits = patterns.filter((p) => p.test(request.content)).length;
    if (hits === 0) return { passed: true, action: 'allow', confidence: 0.6 };
    return {
      passed: false,
      action: config.action ?? 'block',
      reason: `prompt matches ${hits} known jailbreak phrasing${hits === 1 ? '' : 's'}`,
      confidence: Math.min(0.95, 0.6 + 0.15 * (hits - 1)),
      metadata: { matches: String(hits) },
    };
  }
}
