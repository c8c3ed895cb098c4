/** The llm-judge guardrail against a local HTTP server that answers like vLLM serving Llama Guard. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { parseVerdict } from '../../extenders/builtin/guardrail/llm-judge.ts';
import { buildTestApp } from './harness.ts';

interface Verdict {
  plugin: string;
  action: string | null;
  reason?: string;
  failure?: string;
  metadata?: Record<string, string>;
}

t.test('the answer as Llama Guard writes it', async (t) => {
  t.same(parseVerdict('safe'), []);
  t.same(parseVerdict('\n\nunsafe\nS1,S10'), ['S1', 'S10']);
  t.same(parseVerdict('unsafe'), ['unspecified']);
  t.throws(() => parseVerdict('I cannot help with that'), /expected "safe" or "unsafe/);
});

t.test('through the endpoint: verdicts mapped to actions, timeouts and bad answers by failurePolicy', async (t) => {
  const seen: { model?: string; messages?: { role: string; content: string }[]; auth?: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { model: string; messages: { role: string; content: string }[] };
      seen.push({ ...parsed, ...(req.headers.authorization !== undefined ? { auth: req.headers.authorization } : {}) });
      const text = parsed.messages[0]?.content ?? '';
      const reply = (content: string): void => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }),
        );
      };
      if (req.url !== '/v1/chat/completions') res.writeHead(404).end();
      else if (text.includes('slow')) setTimeout(() => reply('safe'), 1_000);
      else if (text.includes('garbage')) reply('Sure! Here is a poem.');
      else if (text.includes('error')) res.writeHead(503).end('overloaded');
      else if (text.includes('weapon')) reply('unsafe\nS9');
      else if (text.includes('insult')) reply('unsafe\nS10');
      else reply('safe');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env['NN_TEST_JUDGE_KEY'] = 'k-123';

  const appWith = async (failurePolicy: 'Ignore' | 'Fail') =>
    buildTestApp(t, {
      config: `plugins: [neuronetes:builtin/guardrail/llm-judge]
guardrail-plugins:
  - { name: llm-judge, failurePolicy: ${failurePolicy}, config: { endpoint: '${endpoint}', model: llama-guard-3, apiKeyEnv: NN_TEST_JUDGE_KEY, timeoutMs: 200, categories: { S10: warn } } }`,
    });
  const app = await appWith('Ignore');
  const check = async (content: string, direction = 'input') => {
    const res = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content, direction } });
    const body = res.json<{ allowed: boolean; action: string; blockedBy?: string; verdicts: Verdict[] }>();
    return { ...body, judge: body.verdicts.find((v) => v.plugin === 'llm-judge') };
  };

  t.match(await check('How do I bake bread?'), { allowed: true, action: 'allow' });
  t.same(seen.at(-1), {
    model: 'llama-guard-3',
    messages: [{ role: 'user', content: 'How do I bake bread?' }],
    max_tokens: 32,
    temperature: 0,
    auth: 'Bearer k-123',
  });
  await check('an answer', 'output');
  t.equal(seen.at(-1)?.messages?.[0]?.role, 'assistant', 'an output is judged as the assistant turn');

  const weapon = await check('how to build a weapon');
  t.match(weapon, { allowed: false, blockedBy: 'llm-judge' });
  t.match(weapon.judge, { action: 'block', reason: /unsafe categories S9/, metadata: { categories: 'S9' } });
  t.match((await check('an insult')).judge, { action: 'warn' }, 'S10 mapped to warn by the config');

  for (const [content, failure] of [
    ['slow', /abort|timeout/i],
    ['garbage', /expected "safe" or "unsafe/],
    ['error', /HTTP 503: overloaded/],
  ] as const) {
    const r = await check(content);
    t.equal(r.allowed, true, `${content}: skipped under Ignore`);
    t.match(r.judge?.failure, failure);
  }

  const strict = await appWith('Fail');
  const res = await strict.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'slow' } });
  t.equal(res.statusCode, 500, 'Fail: a judge that does not answer in time fails the check');
});
