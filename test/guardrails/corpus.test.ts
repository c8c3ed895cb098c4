/** Precision and recall per type on the labelled corpora: ≥ 0.97 for checksum-backed types, ≥ 0.9 for the rest. */
import t from 'tap';
import { generateCorpus } from '../fixtures/guardrails/generate-corpus.ts';
import { evaluate, floorFor, independentDir, loadCorpus, loadIndependent, notCovered, table } from './corpus-eval.ts';

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

/**
 * Where we stay below the bar on other projects' labels, what we reach and why: each is an
 * arguable label or a known gap, kept rather than bent to.
 */
const BELOW_BAR: Readonly<Record<string, { precision?: number; recall?: number; why: string }>> = {
  jwt: { recall: 0.5, why: "26 of gitleaks' cases are random ey….ey…. strings from its generator and 2 have a corrupted header: no JSON header, no JWT" },
  'google-api-key': { precision: 0.62, why: 'gitleaks allowlists published Firebase keys by value; by shape they are keys, and redacting one costs nothing' },
  password: { recall: 0.6, why: "gitleaks' generic rule also reads .=, ::=, ?=, comma arguments and XML elements as assignments" },
  ssn: { recall: 0.75, why: 'Presidio takes a dotted 078.05.1123 for an SSN; dotted digit groups are versions and dates far more often' },
  phone: { recall: 0.82, why: 'national numbers of regions other than the default country (JP, CN, IL, IN) need defaultCountry set' },
};

const dir = independentDir();
t.test(
  "other projects' labels: Presidio's, gitleaks' and secretlint's test cases",
  { skip: dir === undefined ? 'no independent corpus here (see independentDir)' : false },
  async (t) => {
    const samples = loadIndependent(dir as string);
    t.ok(samples.length >= 1500, `${samples.length} texts`);
    t.ok(samples.filter((s) => s.labels.length === 0).length >= samples.length / 5, 'a fifth or more of them look-alikes');
    const scores = evaluate(samples);
    t.comment(`\n${table(scores)}`);
    for (const s of scores.filter((s) => s.texts > 0)) {
      const below = BELOW_BAR[s.type];
      t.ok(s.precision >= (below?.precision ?? floorFor(s)), `${s.type}: precision ${s.precision}`);
      t.ok(s.recall >= (below?.recall ?? floorFor(s)), `${s.type}: recall ${s.recall}${below === undefined ? '' : ` (${below.why})`}`);
    }
    t.ok([...notCovered(samples).keys()].includes('URL'), "their entities we do not cover are counted, not dropped (Presidio's URL)");
  },
);
