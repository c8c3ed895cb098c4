/**
 * runs() reads a probe character and skips ahead; it must still find exactly the maximal runs that a
 * plain pattern finds, clipped to the window, at every minimum length and around non-ASCII text.
 */
import t from 'tap';
import { BASE64_CHARS, charTable, runs } from '../../extenders/builtin/guardrail/char-runs.ts';

/** The runs as a pattern over the window finds them. */
const expected = (text: string, chars: RegExp, min: number, from: number, to: number): [number, number][] =>
  [...text.slice(from, to).matchAll(new RegExp(`${chars.source}+`, 'g'))]
    .filter((m) => m[0].length >= min)
    .map((m) => [from + m.index, from + m.index + m[0].length]);

t.test('the same runs as a pattern, on random text and windows', async (t) => {
  const classes: readonly (readonly [RegExp, Uint8Array])[] = [
    [/[A-Za-z0-9+/]/, BASE64_CHARS],
    [/[0-9a-fA-F]/, charTable(/[0-9a-fA-F]/)],
  ];
  let seed = 5;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = 'aB0f9+/ =-é\n';
  let compared = 0;
  for (let k = 0; k < 3000; k++) {
    const text = Array.from({ length: random(100) }, () => alphabet[random(alphabet.length)]).join('');
    const from = random(text.length + 1);
    const to = from + random(text.length - from + 1);
    for (const min of [1, 2, 5, 16, 24])
      for (const [pattern, table] of classes) {
        const got = runs(text, table, min, from, to);
        const want = expected(text, pattern, min, from, to);
        if (JSON.stringify(got) !== JSON.stringify(want)) t.fail(`${JSON.stringify(text)} [${from}, ${to}) min ${min}: ${JSON.stringify(got)}`);
        compared++;
      }
  }
  t.pass(`${compared} comparisons`);
});

t.test('runs at the edges of the text and clipped by the window', async (t) => {
  const text = 'QUJDREVGR0hJSktMTU5P QUJD QUJDREVGR0hJSktMTU5Q';
  t.same(runs(text, BASE64_CHARS, 16), [
    [0, 20],
    [26, 46],
  ]);
  t.same(runs(text, BASE64_CHARS, 3, 2, 24), [
    [2, 20],
    [21, 24],
  ]);
  t.same(runs(text, BASE64_CHARS, 4, 2, 24), [[2, 20]]);
  t.same(runs(text, BASE64_CHARS, 21), []);
});
