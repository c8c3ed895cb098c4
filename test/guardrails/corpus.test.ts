/** Precision and recall per type on the labelled corpus: ≥ 0.97 for checksum-backed types, ≥ 0.9 for the rest. */
import t from 'tap';
import { generateCorpus } from '../fixtures/guardrails/generate-corpus.ts';
import { evaluate, floorFor, loadCorpus, table } from './corpus-eval.ts';

t.test('the corpus in git is what the generator writes, and a third of it is look-alikes', async (t) => {
  const corpus = loadCorpus();
  t.same(corpus, generateCorpus(), 'regenerate with node test/fixtures/guardrails/generate-corpus.ts');
  t.ok(corpus.length >= 500);
  t.ok(corpus.filter((s) => s.labels.length === 0).length >= corpus.length / 3 - 1);
});

t.test('every type reaches its floor', async (t) => {
  const scores = evaluate(loadCorpus());
  t.comment(`\n${table(scores)}`);
  for (const s of scores) {
    t.ok(s.tp + s.fn >= 30, `${s.type}: ${s.tp + s.fn} labelled values`);
    t.ok(s.precision >= floorFor(s), `${s.type}: precision ${s.precision} ≥ ${floorFor(s)}`);
    t.ok(s.recall >= floorFor(s), `${s.type}: recall ${s.recall} ≥ ${floorFor(s)}`);
  }
});
