import t from 'tap';
import { NodeColumns } from '../../src/scheduling/node-columns.ts';

const names = (n: number, prefix = 'n'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

t.test('columns keep their storage while sizes merely vary, and clear what the last owner left', async (t) => {
  const c = new NodeColumns().claim(1, names(100), 100, 253);
  c.keepVerdicts(new Int32Array(100).fill(3));
  const verdicts = c.verdicts;
  c.claim(2, names(80, 'm'), 80, 253);
  c.keepVerdicts(new Int32Array(80).fill(-1));
  t.equal(c.count, 80);
  t.equal(c.verdicts, verdicts, 'the verdict column is reused');
  t.same(c.names.slice(0, 80), names(80, 'm'));
  t.same(new Set(c.names.slice(80)), new Set(['']), 'no name of the last owner is kept past the count');
  t.same([...c.verdicts.subarray(0, 80)], new Array(80).fill(-1));
});

t.test('columns grow for a bigger call and give memory back after a much smaller one', async (t) => {
  const c = new NodeColumns().claim(1, names(10), 10, 253);
  c.keepScores(new Uint16Array(20), new Float64Array(10), 10);
  c.claim(2, names(5_000), 5_000, 253);
  c.keepScores(new Uint16Array(40_000).fill(7), new Float64Array(5_000).fill(0.5), 5_000);
  t.ok(c.scores.length >= 40_000 && c.totals.length >= 5_000, 'grown');
  t.equal(c.scores[39_999], 7);
  c.claim(3, names(20), 20, 253);
  c.keepScores(new Uint16Array(160).fill(9), new Float64Array(20).fill(1), 20);
  t.ok(c.names.length < 5_000, 'the name column shrank');
  t.ok(c.scores.length < 1_000 && c.totals.length < 1_000, 'the score columns shrank');
  t.same([...c.scores.subarray(0, 160)], new Array(160).fill(9));
  t.equal(c.release().owner, 0, 'released columns belong to no entry');
});

t.test('columns keep only the first nodes a bounded entry has room for, each name cut to its bound', async (t) => {
  const c = new NodeColumns().claim(1, ['a', 'b'.repeat(300), 'c', 'd'], 2, 253);
  t.equal(c.count, 2);
  t.same(c.names.slice(0, 2), ['a', `${'b'.repeat(253)}… (47 more chars)`]);
  c.keepVerdicts(Int32Array.from([0, -1, 1, 1]));
  t.same([...c.verdicts.subarray(0, 2)], [0, -1]);
  // Two plugins' scores over four nodes, plugin-major: only the first two nodes of each row are kept.
  c.keepScores(Uint16Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Float64Array.from([10, 20, 30, 40]), 4);
  t.same([...c.scores.subarray(0, 4)], [1, 2, 5, 6]);
  t.same([...c.totals.subarray(0, 2)], [10, 20]);
});
