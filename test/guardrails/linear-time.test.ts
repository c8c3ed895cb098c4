/**
 * Every pattern that sees request content runs in linear time: 1 MB of the inputs that make
 * backtracking engines blow up (long runs of one character class, near-misses repeated) finishes in
 * well under a second per recognizer, where the old e-mail pattern took seconds on 100 KB. The
 * injection screen gets the same inputs: its leetspeak pass was quadratic on a long number.
 */
import t from 'tap';
import { InjectionScreen } from '../../extenders/builtin/guardrail/injection-screen.ts';
import { RECOGNIZERS } from '../../extenders/builtin/guardrail/pii-detector.ts';

const MB = 1 << 20;
const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);

/** Worst cases for the shapes the recognizers look for. */
export const ADVERSARIAL: readonly (readonly [string, string])[] = [
  ['letters', fill('a')],
  ['digits', fill('1')],
  ['spaced digits', fill('1 ')],
  ['dashed digits', fill('12-')],
  ['local parts', fill('a.')],
  ['at signs', fill('a@')],
  ['long local parts', fill(`${'a.'.repeat(32)}@`)],
  ['domain without tld', `x@${fill('a.')}`],
  ['labels', fill('a-b.')],
  ['hex', fill('0f')],
  ['colons', fill('a:')],
  ['base64', fill('Ab9+')],
  ['forty-character runs', fill(`${'aB3/'.repeat(10)} `)],
  ['near-miss e-mail', fill('a@b.c ')],
  ['near-miss phone', fill('+1 (415) 555-01 ')],
  ['valid phones', fill('+1 415 555 0100 ')],
  ['valid cards', fill('4111 1111 1111 1111 ')],
  ['pem headers', fill('-----BEGIN RSA PRIVATE KEY-----\n')],
  ['jwt heads', fill('eyJhbGciOi.eyJ')],
  ['assignments', fill('password=')],
  ['assignment values', `password=${fill('x')}`],
  ['url schemes', fill('a://b:c@')],
  ['url schemes inside the last host', fill('ab://u:pw@h')],
  ['token prefixes', fill('sk-ant-api03-ghp_AKIA')],
  ['ipv6 groups', fill('ab:')],
  ['ipv4 groups', fill('1.')],
];

t.test('1 MB of adversarial text per recognizer, each in well under a second', async (t) => {
  let worst = { ms: 0, cold: 0, what: '' };
  for (const recognizer of RECOGNIZERS) {
    let slowest = 0;
    for (const [name, text] of ADVERSARIAL) {
      // The first pass also pays for compiling the pattern and the validators (and for a loaded machine):
      // bounded loosely, it still catches a quadratic pattern, which takes minutes on 1 MB.
      let started = performance.now();
      for (const _ of recognizer.find(text));
      const cold = performance.now() - started;
      if (cold >= 5000) t.fail(`${recognizer.type} on ${name}: first pass ${cold.toFixed(0)} ms`);
      started = performance.now();
      for (const _ of recognizer.find(text));
      const ms = performance.now() - started;
      slowest = Math.max(slowest, ms);
      if (ms > worst.ms) worst = { ms, cold, what: `${recognizer.type} on ${name}` };
      // A second is generous on a loaded 2-core machine; a backtracking pattern takes minutes here.
      if (ms >= 1000) t.fail(`${recognizer.type} on ${name}: ${ms.toFixed(0)} ms`);
    }
    t.ok(slowest < 1000, `${recognizer.type}: slowest input ${slowest.toFixed(0)} ms`);
  }
  t.comment(`slowest: ${worst.what}, ${worst.ms.toFixed(0)} ms for 1 MB (first pass ${worst.cold.toFixed(0)} ms)`);
});

t.test('the injection screen on the same 1 MB inputs, each in a few seconds at worst', async (t) => {
  const screen = new InjectionScreen();
  for (const [name, text] of ADVERSARIAL) {
    const started = performance.now();
    screen.screen(text, 'tool-result');
    const ms = performance.now() - started;
    // Normalising, decoding and every rule over 1 MB: well under 3 s loaded; a quadratic pass (as leetspeak on digits was) takes minutes.
    t.ok(ms < 3000, `${name}: ${ms.toFixed(0)} ms`);
  }
});
