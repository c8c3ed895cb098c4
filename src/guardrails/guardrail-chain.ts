/**
 * The guardrail chain: every enabled guardrail the policy selects runs in priority order, each under
 * its own PluginPass. `block` stops the chain; `redact` hands `metadata.redacted_content` to the
 * guardrails after it and to the caller; `warn` and `log` are recorded. Shadow guardrails run on the
 * same content and are traced, but change nothing.
 */
import type { GuardrailSpec } from '../api/neuronetes.ts';
import type { ActivePlugin, PluginSet, Reconfigured } from '../plugins/plugin-set.ts';
import { PluginPass, type CallOutcome, type ChainRuntime, type RequestBudget } from '../plugins/plugin-pass.ts';
import type { GuardrailAction, GuardrailRequest, GuardrailResult } from '../plugins/types.ts';
import type { GuardrailPolicy } from './guardrail-policy.ts';

const ACTIONS: readonly GuardrailAction[] = ['allow', 'log', 'warn', 'redact', 'block'];
/** The shape check() must answer, as malformed-answer errors quote it. */
export const RESULT_SHAPE = `{passed: boolean, action: ${ACTIONS.join('|')}, reason?: string, confidence?: number, metadata?: {string: string}}`;
/** Higher is stronger: the request's action is the strongest one any enforcing guardrail took. */
const STRENGTH: Readonly<Record<GuardrailAction, number>> = { allow: 0, log: 1, warn: 2, redact: 3, block: 4 };

/** `redacted_content` never leaves the chain as metadata: it is the content, and it may be long. */
export const REDACTED_CONTENT_KEY = 'redacted_content';

export interface GuardrailVerdict {
  readonly plugin: string;
  readonly type: string;
  readonly mode: 'enforce' | 'shadow';
  /** What the guardrail answered, before the policy's override and threshold. */
  readonly pluginAction: GuardrailAction | null;
  /** What the chain did with it (null when the guardrail failed and was skipped). */
  readonly action: GuardrailAction | null;
  readonly passed: boolean | null;
  readonly reason?: string;
  readonly confidence?: number;
  readonly threshold?: number;
  /** Why the action differs from the guardrail's own (override, below threshold, nothing to redact). */
  readonly note?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly durationMs: number;
  readonly failure?: string;
}

export interface GuardrailOutcome {
  readonly allowed: boolean;
  readonly action: GuardrailAction;
  /** The content after every enforced redaction. */
  readonly content: string;
  readonly blockedBy?: string;
  readonly reason?: string;
  readonly verdicts: GuardrailVerdict[];
  /** Types the pool's AgentClass asks for that no enabled guardrail provides. */
  readonly unenforced: string[];
}

function isAction(value: unknown): value is GuardrailAction {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

/** Checks a result at run time: third-party guardrails are plain JavaScript as often as not. */
export function validResult(value: unknown): value is GuardrailResult {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (typeof r['passed'] !== 'boolean' || !isAction(r['action'])) return false;
  if (r['reason'] !== undefined && typeof r['reason'] !== 'string') return false;
  const confidence = r['confidence'];
  if (confidence !== undefined && (typeof confidence !== 'number' || !Number.isFinite(confidence))) return false;
  const meta = r['metadata'];
  if (meta === undefined) return true;
  return typeof meta === 'object' && meta !== null && Object.values(meta).every((v) => typeof v === 'string');
}

function publicMetadata(meta: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  if (meta === undefined) return undefined;
  const { [REDACTED_CONTENT_KEY]: _content, ...rest } = meta;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

interface Decision {
  action: GuardrailAction;
  note?: string;
}

/** Applies the AgentClass's action override and threshold to what the guardrail answered. */
function decide(result: GuardrailResult, spec: GuardrailSpec | undefined): Decision {
  if (result.action === 'allow') return { action: 'allow' };
  let action: GuardrailAction = spec?.action ?? result.action;
  let note = action !== result.action ? `action ${result.action} overridden to ${action} by the AgentClass` : undefined;
  const threshold = spec?.threshold;
  if (threshold !== undefined && result.confidence !== undefined && result.confidence < threshold) {
    return { action: 'log', note: `confidence ${result.confidence} below the AgentClass threshold ${threshold}; logged only` };
  }
  if (action === 'redact' && result.metadata?.[REDACTED_CONTENT_KEY] === undefined) {
    // Asked to redact with nothing to redact with: letting the content through unredacted would be
    // the one wrong answer, so the request is blocked instead.
    action = 'block';
    note = `redaction asked for but the guardrail offered no ${REDACTED_CONTENT_KEY}; blocked instead`;
  }
  return note === undefined ? { action } : { action, note };
}

const typeCache = new WeakMap<object, string>();

/** A guardrail's type; one whose getType() throws is known by its name rather than sinking the chain. */
function typeOf(active: ActivePlugin<'guardrail'>): string {
  let type = typeCache.get(active.plugin);
  if (type === undefined) {
    try {
      const t: unknown = active.plugin.getType();
      type = typeof t === 'string' && t !== '' ? t : active.name;
    } catch {
      type = active.name;
    }
    typeCache.set(active.plugin, type);
  }
  return type;
}

/** The AgentClass's per-guardrail config laid over the plugin's own, for this request only. */
function configured(plugins: PluginSet, active: ActivePlugin<'guardrail'>, spec: GuardrailSpec | undefined): Reconfigured<'guardrail'> {
  return spec?.config === undefined ? { ok: true, active } : plugins.withConfig(active, spec.config);
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export async function runGuardrailChain(
  runtime: ChainRuntime,
  set: PluginSet,
  request: GuardrailRequest,
  policy: GuardrailPolicy,
  budget: RequestBudget,
): Promise<GuardrailOutcome> {
  let content = request.content;
  let action: GuardrailAction = 'allow';
  let blockedBy: string | undefined;
  let reason: string | undefined;
  const verdicts: GuardrailVerdict[] = [];

  const plugins = set.enabled('guardrail');
  const selected = policy.byType === undefined ? plugins : plugins.filter((p) => policy.byType?.has(typeOf(p)) === true);
  for (let i = 0; i < selected.length && blockedBy === undefined; i++) {
    const active = selected[i] as ActivePlugin<'guardrail'>;
    const type = typeOf(active);
    const spec = policy.byType?.get(type);
    const reconfigured = configured(set, active, spec);
    const effective = reconfigured.ok ? reconfigured.active : active;
    const pass = new PluginPass<'guardrail'>(runtime, effective, 'check', budget.shareOf(selected, i), {});
    const seen: GuardrailRequest = { ...request, content, ...(spec?.threshold !== undefined ? { threshold: spec.threshold } : {}) };
    let outcome: CallOutcome<GuardrailResult>;
    try {
      outcome = await pass.call((ctx) => {
        // A config the plugin refuses fails this call, so the guardrail's failurePolicy decides.
        if (!reconfigured.ok) throw new Error(`the AgentClass's config for ${active.name} is invalid: ${reconfigured.problems.join('; ')}`);
        return effective.plugin.check(ctx, seen);
      });
      if (outcome.ok && !validResult(outcome.value)) {
        outcome = pass.malformed('check()', outcome.value, RESULT_SHAPE);
      }
      pass.check(outcome);
    } finally {
      pass.end();
    }
    const base = {
      plugin: active.name,
      type,
      mode: active.settings.mode,
      durationMs: round3(pass.elapsedMs),
      ...(spec?.threshold !== undefined ? { threshold: spec.threshold } : {}),
    };
    if (!outcome.ok) {
      verdicts.push({ ...base, pluginAction: null, action: null, passed: null, failure: `${outcome.kind}: ${outcome.error.message}` });
      continue;
    }
    const result = outcome.value;
    const decision = decide(result, spec);
    const metadata = publicMetadata(result.metadata);
    verdicts.push({
      ...base,
      pluginAction: result.action,
      action: decision.action,
      passed: result.passed,
      ...(result.reason !== undefined ? { reason: result.reason } : {}),
      ...(result.confidence !== undefined ? { confidence: result.confidence } : {}),
      ...(decision.note !== undefined ? { note: decision.note } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    });
    if (!pass.enforcing) continue;
    if (STRENGTH[decision.action] > STRENGTH[action]) {
      action = decision.action;
      reason = result.reason ?? `${decision.action} by ${active.name}`;
    }
    if (decision.action === 'block') blockedBy = active.name;
    else if (decision.action === 'redact') content = result.metadata?.[REDACTED_CONTENT_KEY] as string;
  }

  const provided = new Set(plugins.filter((p) => p.settings.mode === 'enforce').map(typeOf));
  const unenforced = policy.byType === undefined ? [] : [...policy.byType.keys()].filter((t) => !provided.has(t));
  return {
    allowed: blockedBy === undefined,
    action,
    content,
    verdicts,
    unenforced,
    ...(blockedBy !== undefined ? { blockedBy } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
}
