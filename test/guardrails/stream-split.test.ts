/**
 * POST /guardrails/stream with chunk boundaries at every position of a private-key block and of
 * other secrets: nothing of a secret is released, redacted or blocked alike, and a block cuts the
 * stream. A PEM block runs far past the carried-over window, so it is the case that leaked.
 */
import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { MAX_OPEN_BLOCK } from '../../src/guardrails/stream-screen.ts';
import type { NeuroNetesApp } from '../../src/server/app.ts';
import { buildTestApp } from './harness.ts';

type Event = { delta?: string; blocked?: boolean; blockedBy?: string; reason?: string; error?: string };

async function stream(app: NeuroNetesApp, chunks: readonly string[]): Promise<Event[]> {
  const res = await app.inject({
    method: 'POST',
    url: '/guardrails/stream?direction=output',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: chunks.map((c) => JSON.stringify({ delta: c })).join('\n'),
  });
  return res.body
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Event);
}

const released = (events: readonly Event[]): string => events.map((e) => e.delta ?? '').join('');
const chunked = (text: string, size: number): string[] => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

// A real RSA-1024 key: about 880 characters, several windows long.
const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString().trimEnd();
const bodyLines = pem.split('\n').slice(1, -1);
const before = 'Sure, here is the deploy key you asked for.\n';
const after = '\nStore it in the vault and rotate it monthly.';
const text = before + pem + after;
const leaks = (out: string): string[] => bodyLines.filter((l) => out.includes(l.slice(0, 24)));

t.test('a private-key block split at every position is redacted whole, never released in part', async (t) => {
  const app = await buildTestApp(t);
  const want = `${before}[PRIVATE_KEY]${after}`;
  let wrong = 0;
  for (let p = 0; p <= text.length; p++) {
    const events = await stream(app, [text.slice(0, p), text.slice(p)]);
    const out = released(events);
    if (out !== want || leaks(out).length > 0) {
      if (wrong++ === 0) t.fail(`split at ${p}: released ${JSON.stringify(out.slice(0, 200))}`);
    }
  }
  t.equal(wrong, 0, `every one of ${text.length + 1} split positions`);
  for (const size of [1, 7, 64, 257, 1000]) t.equal(released(await stream(app, chunked(text, size))), want, `in chunks of ${size}`);
  const cut = before + pem.slice(0, 900);
  t.equal(released(await stream(app, chunked(cut, 100))), `${before}[PRIVATE_KEY]`, 'a block the stream ends inside is redacted to its end');
});

t.test('with a blocking PII guardrail, the stream is cut at the block and nothing of the key is released', async (t) => {
  const app = await buildTestApp(t, { config: 'guardrail-plugins:\n  - { name: pii-regex, config: { action: block } }' });
  let wrong = 0;
  for (let p = 0; p <= text.length; p += 3) {
    const events = await stream(app, [text.slice(0, p), text.slice(p), 'never sent']);
    const out = released(events);
    const last = events.at(-1);
    if (last?.blocked !== true || last.blockedBy !== 'pii-regex' || leaks(out).length > 0 || out.includes('BEGIN') || out.includes('never sent')) {
      if (wrong++ === 0) t.fail(`split at ${p}: ${JSON.stringify(events).slice(0, 300)}`);
    }
  }
  t.equal(wrong, 0, 'blocked at every third split position');
});

t.test('tokens, keys and personal data split at every position are redacted', async (t) => {
  const app = await buildTestApp(t);
  const secrets: [string, string][] = [
    ['ghp_0123456789abcdefghijABCDEFGHIJ012345', 'GITHUB_TOKEN'],
    ['AKIALALEMEL33243OLIB', 'AWS_KEY'],
    ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'JWT'],
    ['sk_live_51OuEMLAlTWGaDypq4P5cuDHbuKe', 'STRIPE_KEY'],
    ['jane.doe@example.com', 'EMAIL'],
    ['4111 1111 1111 1111', 'CREDIT_CARD'],
  ];
  const filler = 'Here is what the tool returned. '.repeat(10);
  for (const [secret, placeholder] of secrets) {
    const whole = `${filler}value: ${secret} (end)`;
    const want = `${filler}value: [${placeholder}] (end)`;
    const start = whole.indexOf(secret);
    let wrong = 0;
    for (let p = start - 1; p <= start + secret.length + 1; p++) {
      const out = released(await stream(app, [whole.slice(0, p), whole.slice(p)]));
      if (out !== want && wrong++ === 0) t.comment(`split at ${p - start}: ${out.slice(filler.length)}`);
    }
    t.equal(wrong, 0, `${placeholder}: every split position`);
  }
});

t.test('a block left open past the bound cuts the stream instead of holding ever more', async (t) => {
  const app = await buildTestApp(t);
  const line = `${'A'.repeat(64)}\n`;
  const events = await stream(app, [
    'Key:\n-----BEGIN PRIVATE KEY-----\n',
    ...Array.from({ length: Math.ceil(MAX_OPEN_BLOCK / line.length) + 1 }, () => line.repeat(1)),
    'after',
  ]);
  t.match(events.at(-1), { blocked: true, blockedBy: 'stream-screen' });
  t.notOk(released(events).includes('AAAA'), 'no body line released');
});
