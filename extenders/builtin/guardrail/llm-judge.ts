/**
 * `llm-judge` guardrail (type `safety-check`): asks a model behind an OpenAI-compatible endpoint
 * (Llama Guard served by vLLM, for one) whether the content is safe, and maps the categories it
 * names to actions. Not loaded by default, since it needs an endpoint:
 *   plugins: [neuronetes:builtin/guardrail/llm-judge]
 *   guardrail-plugins: [{ name: llm-judge, timeout: 2s, failurePolicy: Fail, config: { endpoint: http://llama-guard:8000, model: meta-llama/Llama-Guard-3-8B } }]
 * The answer is read as Llama Guard writes it: `safe`, or `unsafe` and a line of categories (`S1,S10`).
 * A timeout, an HTTP error or an answer it cannot read fails the call, and the plugin's
 * `failurePolicy` decides (Fail: the check is a 500; Ignore: skipped, with the reason in its verdict).
 * Config: `endpoint` (the plugin stays off until it is set), `model` (default
 * meta-llama/Llama-Guard-3-8B), `apiKeyEnv` (environment variable holding a bearer token),
 * `categories` (category → action; unlisted unsafe categories take `action`, default block),
 * `timeoutMs` (default 2000, also bounded by the plugin's timeout).
 */
import { Type } from 'typebox';
import { request } from 'undici';
import { definePlugin, registerPlugin, type GuardrailAction, type GuardrailRequest, type GuardrailResult, type PluginContext } from 'neuronetes';

const ACTIONS = ['block', 'redact', 'warn', 'log'] as const;
const STRENGTH: Readonly<Record<string, number>> = { log: 1, warn: 2, redact: 3, block: 4 };

interface ChatCompletion {
  choices?: { message?: { content?: unknown } }[];
}

/** `safe` → []; `unsafe\nS1,S10` → ['S1', 'S10']; anything else is not an answer. */
export function parseVerdict(text: string): string[] {
  const [first, second] = text.trim().split(/\s*\n\s*/, 2);
  if (first?.toLowerCase() === 'safe') return [];
  if (first?.toLowerCase() !== 'unsafe') throw new Error(`the judge answered ${JSON.stringify(text.slice(0, 80))}; expected "safe" or "unsafe\\n<categories>"`);
  const categories = (second ?? '').split(/[\s,]+/).filter((c) => c !== '');
  return categories.length > 0 ? categories : ['unspecified'];
}

export const llmJudge = definePlugin({
  type: 'guardrail',
  name: 'llm-judge',
  // After the cheap local guardrails: a model call is the dearest check.
  priority: 50,
  config: Type.Object(
    {
      endpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
      model: Type.String({ minLength: 1, default: 'meta-llama/Llama-Guard-3-8B' }),
      apiKeyEnv: Type.Optional(Type.String({ minLength: 1 })),
      categories: Type.Record(Type.String(), Type.Enum(ACTIONS), { default: {} }),
      action: Type.Enum(ACTIONS, { default: 'block' }),
      timeoutMs: Type.Integer({ minimum: 1, maximum: 60_000, default: 2_000 }),
    },
    { additionalProperties: false },
  ),
  defaults: { needs: { key: 'endpoint', why: 'the base URL of an OpenAI-compatible server running the judge model, e.g. http://llama-guard:8000' } },
  create: (config) => ({
    getType: (): string => 'safety-check',
    async check(ctx: PluginContext, req: GuardrailRequest): Promise<GuardrailResult> {
      const endpoint = config.endpoint as string; // `needs` keeps the plugin off until it is set
      const key = config.apiKeyEnv === undefined ? undefined : process.env[config.apiKeyEnv];
      const role = req.direction === 'output' ? 'assistant' : 'user';
      const res = await request(new URL('/v1/chat/completions', endpoint), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ model: config.model, messages: [{ role, content: req.content }], max_tokens: 32, temperature: 0 }),
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(config.timeoutMs)]),
      });
      if (res.statusCode !== 200) {
        const body = await res.body.text();
        throw new Error(`the judge at ${endpoint} answered HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
      }
      const answer = (await res.body.json()) as ChatCompletion;
      const content = answer.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new Error('the judge answered no choices[0].message.content');
      const categories = parseVerdict(content);
      if (categories.length === 0) return { passed: true, action: 'allow', confidence: 0.9 };
      const actions = categories.map((c) => config.categories[c] ?? config.action);
      const action = actions.reduce((a, b) => ((STRENGTH[b] ?? 0) > (STRENGTH[a] ?? 0) ? b : a)) as GuardrailAction;
      return {
        passed: false,
        action,
        reason: `the judge (${config.model}) found unsafe categories ${categories.join(', ')}`,
        confidence: 0.9,
        metadata: { categories: categories.join(',') },
      };
    },
  }),
});

registerPlugin(llmJudge);
