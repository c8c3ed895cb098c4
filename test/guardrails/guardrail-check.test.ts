import t from 'tap';
import { getGlobalRegistry } from '../../src/plugins/registry.ts';
import type { Guardrail, GuardrailRequest, GuardrailResult, PluginContext } from '../../src/plugins/types.ts';
import { buildTestApp } from './harness.ts';

/**
 * A guardrail steered by its config: `trigger` (a word that makes it act), `action`, `confidence`,
 * `redactTo`, `fail` (throw | hang | invalid). It records the content it was shown.
 */
class ScriptedGuardrail implements Guardrail {
  readonly seen: string[] = [];
  readonly #name: string;
  readonly #type: string;
  readonly #priority: number;
  constructor(name: string, type: string, priority: number) {
    this.#name = name;
    this.#type = type;
    this.#priority = priority;
  }
  name(): string {
    return this.#name;
  }
  priority(): number {
    return this.#priority;
  }
  getType(): string {
    return this.#type;
  }
  async check(ctx: PluginContext, request: GuardrailRequest): Promise<GuardrailResult> {
    this.seen.push(request.content);
    const c = ctx.config;
    if (c['fail'] === 'throw') throw new Error(`${this.#name} exploded`);
    if (c['fail'] === 'hang') await new Promise((resolve) => setTimeout(resolve, 1000));
    if (c['fail'] === 'invalid') return { verdict: 'nope' } as unknown as GuardrailResult;
    const trigger = typeof c['trigger'] === 'string' ? c['trigger'] : '';
    if (trigger === '' || !request.content.includes(trigger)) return { passed: true, action: 'allow' };
    const action = (c['action'] ?? 'block') as GuardrailResult['action'];
    return {
      passed: false,
      action,
      reason: `${this.#name} triggered`,
      ...(typeof c['confidence'] === 'number' ? { confidence: c['confidence'] } : {}),
      metadata: { found: 'yes', ...(typeof c['redactTo'] === 'string' ? { redacted_content: request.content.replaceAll(trigger, c['redactTo']) } : {}) },
    };
  }
}

const registry = getGlobalRegistry();
const redactor = new ScriptedGuardrail('t-redactor', 't-secrets', 400);
const blocker = new ScriptedGuardrail('t-blocker', 't-safety', 300);
const warner = new ScriptedGuardrail('t-warner', 't-tone', 200);
const observer = new ScriptedGuardrail('t-observer', 't-observe', 10);
for (const g of [redactor, blocker, warner, observer]) registry.register('guardrail', g, 'test');
/** A guardrail whose getType() throws is known by its name. */
class TypelessGuardrail extends ScriptedGuardrail {
  override getType(): string {
    throw new Error('no type');
  }
}
registry.register('guardrail', new TypelessGuardrail('t-typeless', 'unused', 5), 'test');

const BUILTINS_OFF = `
  - { name: max-length, enabled: false }
  - { name: jailbreak-heuristic, enabled: false }
  - { name: pii-regex, enabled: false }`;

function config(plugins: string, extra = ''): string {
  const typeless = plugins.includes('t-typeless') ? '' : '\n  - { name: t-typeless, enabled: false }';
  return `guardrail-plugins:${BUILTINS_OFF}${typeless}\n${plugins}\n${extra}`;
}

const SCRIPTED = config(`
  - { name: t-redactor, config: { trigger: hunter2, action: redact, redactTo: '[pw]' } }
  - { name: t-blocker, config: { trigger: BOOM, action: block } }
  - { name: t-warner, config: { trigger: darn, action: warn } }
  - { name: t-observer }`);

const CLUSTER = `
apiVersion: neuronetes.io/v1alpha1
kind: AgentClass
metadata: { name: strict, namespace: agents }
spec:
  modelRef: { name: m }
  guardrails:
  - { type: t-secrets, action: warn }
  - { type: t-tone, action: block, threshold: 0.8 }
  - { type: t-observe, action: log, config: { trigger: hello, action: redact } }
  - { type: safety-check, action: block }
---
apiVersion: neuronetes.io/v1alpha1
kind: AgentPool
metadata: { name: chat, namespace: agents }
spec: { agentClassRef: { name: strict }, minReplicas: 1, maxReplicas: 3 }
---
apiVersion: neuronetes.io/v1alpha1
kind: AgentClass
metadata: { name: open, namespace: agents }
spec: { modelRef: { name: m } }
---
apiVersion: neuronetes.io/v1alpha1
kind: AgentPool
metadata: { name: free, namespace: agents }
spec: { agentClassRef: { name: open }, minReplicas: 1, maxReplicas: 3 }
`;

interface Verdict {
  plugin: string;
  type: string;
  action: string | null;
  pluginAction: string | null;
  mode: string;
  failure?: string;
  note?: string;
  metadata?: Record<string, string>;
}
interface CheckBody {
  allowed: boolean;
  action: string;
  content: string;
  blockedBy?: string;
  unenforced: string[];
  verdicts: Verdict[];
}

function clear(): void {
  for (const g of [redactor, blocker, warner, observer]) g.seen.length = 0;
}

t.beforeEach(clear);

t.test('redact hands the redacted content to later guardrails and to the caller', async (t) => {
  const app = await buildTestApp(t, { config: SCRIPTED });
  const res = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'my password is hunter2, darn' } });
  t.equal(res.statusCode, 200);
  const body = res.json<CheckBody>();
  t.equal(body.allowed, true);
  t.equal(body.action, 'redact', 'the strongest action wins over warn');
  t.equal(body.content, 'my password is [pw], darn');
  t.same(warner.seen, ['my password is [pw], darn'], 'the guardrail after the redactor saw redacted content');
  t.same(observer.seen, ['my password is [pw], darn']);
  t.same(
    body.verdicts.map((v) => [v.plugin, v.action]),
    [
      ['t-redactor', 'redact'],
      ['t-blocker', 'allow'],
      ['t-warner', 'warn'],
      ['t-observer', 'allow'],
    ],
    'priority order, every verdict recorded',
  );
  t.same(body.verdicts[0]?.metadata, { found: 'yes' }, 'redacted_content is not repeated in the verdict metadata');
});

t.test('block stops the chain', async (t) => {
  const app = await buildTestApp(t, { config: SCRIPTED });
  const res = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'hunter2 BOOM darn', direction: 'input' } });
  const body = res.json<CheckBody>();
  t.equal(res.statusCode, 200, 'a block is an answer, not an error');
  t.equal(body.allowed, false);
  t.equal(body.action, 'block');
  t.equal(body.blockedBy, 't-blocker');
  t.same(blocker.seen, ['[pw] BOOM darn']);
  t.same(warner.seen, [], 'guardrails after the block did not run');
  t.same(
    body.verdicts.map((v) => v.plugin),
    ['t-redactor', 't-blocker'],
  );
});

t.test("the pool's AgentClass selects guardrails by type and overrides action, threshold and config", async (t) => {
  const app = await buildTestApp(t, {
    cluster: CLUSTER,
    config: config(`
  - { name: t-redactor, config: { trigger: hunter2, action: redact, redactTo: '[pw]' } }
  - { name: t-blocker, config: { trigger: BOOM, action: block } }
  - { name: t-warner, config: { trigger: darn, action: warn, confidence: 0.5 } }
  - { name: t-observer }`),
  });
  const res = await app.inject({
    method: 'POST',
    url: '/guardrails/check',
    payload: { content: 'hunter2 BOOM darn hello', pool: { name: 'chat', namespace: 'agents' } },
  });
  t.equal(res.statusCode, 200);
  const body = res.json<CheckBody>();
  const by = Object.fromEntries(body.verdicts.map((v) => [v.plugin, v]));
  t.notOk(by['t-blocker'], 't-safety is not in the class list: not run');
  t.same(blocker.seen, []);
  t.equal(by['t-redactor']?.pluginAction, 'redact');
  t.equal(by['t-redactor']?.action, 'warn', 'class action overrides redact → warn');
  t.match(by['t-redactor']?.note, /overridden to warn/);
  t.equal(by['t-warner']?.action, 'log', 'confidence 0.5 is below the class threshold 0.8');
  t.match(by['t-warner']?.note, /below the AgentClass threshold 0.8/);
  t.equal(by['t-observer']?.pluginAction, 'redact', 'class config overlaid the plugin config (trigger: hello)');
  t.equal(by['t-observer']?.action, 'log');
  t.equal(body.content, 'hunter2 BOOM darn hello', 'nothing was redacted: the class downgraded it');
  t.equal(body.action, 'warn');
  t.same(body.unenforced, ['safety-check'], 'types the class asks for that nothing provides are reported');

  const trace = (await app.inject({ url: '/debug/plugins/guardrail/trace?pool=chat' })).json<{
    decisions: { pool: string; agentClass: string; unenforced: string[] }[];
  }>();
  t.equal(trace.decisions[0]?.pool, 'agents/chat');
  t.equal(trace.decisions[0]?.agentClass, 'agents/strict');

  const open = (
    await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'BOOM', pool: { name: 'free', namespace: 'agents' } } })
  ).json<CheckBody>();
  t.equal(open.blockedBy, 't-blocker', 'a class without guardrails[] runs every enabled guardrail');
});

t.test('a class asking to redact what the guardrail cannot redact blocks instead', async (t) => {
  const app = await buildTestApp(t, {
    cluster: CLUSTER.replace('{ type: t-secrets, action: warn }', '{ type: t-secrets, action: redact }'),
    config: config(`  - { name: t-redactor, config: { trigger: hunter2, action: block } }`),
  });
  const body = (
    await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'hunter2', pool: { name: 'chat', namespace: 'agents' } } })
  ).json<CheckBody>();
  t.equal(body.allowed, false);
  t.equal(body.blockedBy, 't-redactor');
  t.match(body.verdicts[0]?.note, /offered no redacted_content; blocked instead/);
});

t.test('failurePolicy Ignore skips a guardrail that throws, times out or answers nonsense', async (t) => {
  const app = await buildTestApp(t, {
    config: config(`
  - { name: t-redactor, config: { fail: throw } }
  - { name: t-blocker, timeout: 50ms, config: { fail: hang } }
  - { name: t-warner, config: { fail: invalid } }
  - { name: t-observer, config: { trigger: x, action: log } }
  - { name: t-typeless, enabled: true }`),
  });
  const res = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'x' } });
  t.equal(res.statusCode, 200);
  const body = res.json<CheckBody>();
  t.equal(body.allowed, true);
  t.equal(body.action, 'log');
  const failures = body.verdicts.map((v) => [v.plugin, v.action, v.failure?.split(':')[0]]);
  t.same(failures, [
    ['t-redactor', null, 'error'],
    ['t-blocker', null, 'timeout'],
    ['t-warner', null, 'error'],
    ['t-observer', 'log', undefined],
    ['t-typeless', 'allow', undefined],
  ]);
  t.equal(body.verdicts.at(-1)?.type, 't-typeless', 'a guardrail whose getType() throws is typed by its name');
  t.match(body.verdicts[0]?.failure, /t-redactor exploded/);
  t.match(body.verdicts[2]?.failure, /check\(\) returned/);

  const debug = (await app.inject({ url: '/debug/plugins' })).json<{ guardrail: { name: string; errors: number; timeouts: number; calls: number }[] }>();
  const stats = Object.fromEntries(debug.guardrail.map((p) => [p.name, p]));
  t.equal(stats['t-redactor']?.errors, 1);
  t.equal(stats['t-blocker']?.timeouts, 1);
  t.equal(stats['t-observer']?.calls, 1);
  const metrics = (await app.inject({ url: '/metrics' })).body;
  t.match(metrics, /neuronetes_plugin_failures_total\{plugin_name="t-blocker",plugin_type="guardrail",kind="timeout"\} 1/);
  t.match(metrics, /neuronetes_guardrail_checks_total\{action="log"\} 1/);
});

t.test('failurePolicy Fail turns a failing guardrail into a failed check', async (t) => {
  for (const [fail, word] of [
    ['throw', 'failed'],
    ['hang', 'timed out'],
  ] as const) {
    const app = await buildTestApp(t, { config: config(`  - { name: t-blocker, timeout: 50ms, failurePolicy: Fail, config: { fail: ${fail} } }`) });
    const res = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'anything' } });
    t.equal(res.statusCode, 500, fail);
    t.equal(res.json<{ code: string }>().code, 'NN_PLUGIN_CHAIN_FAILED');
    t.match(res.json<{ message: string }>().message, new RegExp(`guardrail plugin "t-blocker" ${word}`));
    const trace = (await app.inject({ url: '/debug/plugins/guardrail/trace' })).json<{ decisions: { error?: string }[] }>();
    t.match(trace.decisions[0]?.error, /t-blocker/, 'the failed check is traced');
  }
});

t.test('a shadow guardrail is traced but changes nothing', async (t) => {
  const app = await buildTestApp(t, {
    config: config(`
  - { name: t-redactor, mode: shadow, config: { trigger: hunter2, action: redact, redactTo: '[pw]' } }
  - { name: t-blocker, mode: shadow, config: { trigger: hunter2, action: block } }
  - { name: t-warner, enabled: false }
  - { name: t-observer, enabled: false }`),
  });
  const body = (await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'hunter2' } })).json<CheckBody>();
  t.equal(body.allowed, true);
  t.equal(body.action, 'allow');
  t.equal(body.content, 'hunter2');
  t.same(blocker.seen, ['hunter2'], 'the next guardrail saw the original content');
  t.same(
    body.verdicts.map((v) => [v.mode, v.action]),
    [
      ['shadow', 'redact'],
      ['shadow', 'block'],
    ],
  );
});

t.test('bad requests', async (t) => {
  const app = await buildTestApp(t, { cluster: CLUSTER, config: SCRIPTED });
  const malformed = await app.inject({ method: 'POST', url: '/guardrails/check', headers: { 'content-type': 'application/json' }, payload: '{"content": "x"' });
  t.equal(malformed.statusCode, 400, 'malformed JSON');
  const wrongType = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 42 } });
  t.equal(wrongType.statusCode, 400, 'content must be a string');
  t.match(wrongType.json<{ message: string }>().message, /content/);
  const missing = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { direction: 'input' } });
  t.equal(missing.statusCode, 400, 'content is required');
  const badDirection = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'x', direction: 'sideways' } });
  t.equal(badDirection.statusCode, 400);
  const unknownPool = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'x', pool: { name: 'nope', namespace: 'agents' } } });
  t.equal(unknownPool.statusCode, 404);
  t.equal(unknownPool.json<{ code: string }>().code, 'NN_UNKNOWN_POOL');
  t.same(redactor.seen, [], 'no guardrail ran for a bad request');
});

t.test('the trace keeps verdicts, never the content', async (t) => {
  const app = await buildTestApp(t, { config: SCRIPTED });
  await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'hunter2 is my password' } });
  const res = await app.inject({ url: '/debug/plugins/guardrail/trace?limit=1' });
  t.equal(res.statusCode, 200);
  t.notMatch(res.body, /hunter2/, 'no secret in the trace');
  const trace = res.json<{ count: number; decisions: { subject: string; action: string; contentLength: number; verdicts: unknown[] }[] }>();
  t.equal(trace.count, 1);
  t.equal(trace.decisions[0]?.subject, '(no pool)');
  t.equal(trace.decisions[0]?.action, 'redact');
  t.equal(trace.decisions[0]?.contentLength, 'hunter2 is my password'.length);
  t.equal(trace.decisions[0]?.verdicts.length, 4);
});

t.test('requestBudget bounds every guardrail; a bad one is a config error', async (t) => {
  const app = await buildTestApp(t, { config: config(`  - { name: t-blocker, timeout: 10s, config: { fail: hang } }`, 'guardrails: { requestBudget: 30ms }') });
  const body = (await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'x' } })).json<CheckBody>();
  const failure = body.verdicts.find((v) => v.plugin === 't-blocker')?.failure ?? '';
  // The plugin's deadline is what is left of the 30ms budget when it starts (a busy machine spends a
  // millisecond or two before that), never its own 10s timeout.
  const deadline = Number(/^timeout: .*within its (\d+)ms deadline/.exec(failure)?.[1]);
  t.ok(deadline > 0 && deadline <= 30, `bounded by the request budget: ${failure}`);
  await t.rejects(buildTestApp(t, { config: 'guardrails: { requestBudget: soon }' }), /guardrails\/requestBudget/);
});
