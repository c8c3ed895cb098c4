/**
 * Precision and recall of the detector per type on two labelled corpora: the self-authored one
 * (test/fixtures/guardrails/, written alongside the detectors, so an upper bound) and an independent
 * one made of cases other projects labelled (Presidio's recognizer tests, gitleaks' and secretlint's
 * rule tests; see independentDir). A finding is a true positive when it overlaps a labelled value of
 * its own type; every other finding is a false positive, every label no finding of its type overlaps
 * a false negative. An independent case is labelled for the types of its origin rule only (`scope`):
 * a gitleaks false positive for generic keys may well hold an e-mail address, which is not judged.
 *   npm run guardrails:corpus
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PiiDetector, RECOGNIZERS } from '../../extenders/builtin/guardrail/pii-detector.ts';
import type { Sample } from '../fixtures/guardrails/generate-corpus.ts';

export interface TypeScore {
  readonly type: string;
  readonly validated: boolean;
  /** Texts labelled for this type (its positives and its look-alikes). */
  readonly texts: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
}

/**
 * A labelled text. A label has its value, or its span, or neither (the origin only says the text
 * holds one somewhere: any finding of the type matches it). `ignore` spans are matches the origin
 * expects only at a score below the default threshold: neither missed nor false when found.
 */
export interface Labelled {
  readonly text: string;
  readonly labels: readonly { readonly type: string; readonly value?: string; readonly start?: number; readonly end?: number }[];
  /** The types the origin labels this text for (default: every type). */
  readonly scope?: readonly string[];
  readonly ignore?: readonly { readonly type: string; readonly start: number; readonly end: number }[];
  /** Values the origin labels with an entity none of our types covers. */
  readonly notCovered?: readonly { readonly entity: string; readonly count: number }[];
}

export function loadCorpus(): Sample[] {
  return readJsonl<Sample>(new URL('../fixtures/guardrails/corpus.jsonl', import.meta.url));
}

function readJsonl<T>(file: URL | string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

/**
 * The independent corpus is data taken from other repositories, which lives in the steering repo's
 * shared/ (beside the clone, as for the kube binaries), not in this repo: GUARDRAILS_INDEPENDENT_DIR,
 * <repo>/../shared/guardrails/independent or /work/shared/guardrails/independent.
 */
export function independentDir(): string | undefined {
  const repo = new URL('../..', import.meta.url).pathname;
  const dirs = [process.env['GUARDRAILS_INDEPENDENT_DIR'], join(repo, '..', 'shared', 'guardrails', 'independent'), '/work/shared/guardrails/independent'];
  return dirs.find((d): d is string => d !== undefined && d !== '' && existsSync(d));
}

export function loadIndependent(dir: string): Labelled[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readJsonl<Labelled>(join(dir, f)));
}

export function evaluate(samples: readonly Labelled[], detector = new PiiDetector()): TypeScore[] {
  const counts = new Map(RECOGNIZERS.map((r) => [r.type, { texts: 0, tp: 0, fp: 0, fn: 0 }]));
  for (const s of samples) {
    const scope = s.scope ?? [...counts.keys()];
    for (const type of scope) (counts.get(type) ?? fail(`unknown type ${type} in a corpus`)).texts++;
    const labels = s.labels.map((l) => {
      if (l.value === undefined) return { type: l.type, start: l.start ?? 0, end: l.end ?? s.text.length, anywhere: l.start === undefined, found: false };
      const start = s.text.indexOf(l.value);
      if (start < 0) fail(`label ${l.type} not in the text ${s.text.slice(0, 60)}`);
      return { type: l.type, start, end: start + l.value.length, anywhere: false, found: false };
    });
    for (const f of detector.scan(s.text)) {
      if (!scope.includes(f.type)) continue;
      const overlaps = (l: { type: string; start: number; end: number }): boolean => l.type === f.type && f.start < l.end && l.start < f.end;
      const c = counts.get(f.type) as { tp: number; fp: number };
      const label = labels.find((l) => overlaps(l) && !l.found) ?? labels.find(overlaps);
      if (label === undefined) {
        if (s.ignore?.some(overlaps) !== true) c.fp++;
      } else if (!label.found) {
        label.found = true;
        c.tp++;
      }
    }
    for (const l of labels) if (!l.found) (counts.get(l.type) as { fn: number }).fn++;
  }
  const ratio = (a: number, b: number): number => (b === 0 ? 1 : Math.round((a / b) * 1000) / 1000);
  return [...counts].map(([type, c]) => ({
    type,
    validated: RECOGNIZERS.find((r) => r.type === type)?.validated ?? false,
    ...c,
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
  }));
}

function fail(message: string): never {
  throw new Error(message);
}

/** Labelled values per entity that none of our types covers. */
export function notCovered(samples: readonly Labelled[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) for (const n of s.notCovered ?? []) out.set(n.entity, (out.get(n.entity) ?? 0) + n.count);
  return out;
}

/** The figures each type must reach: checksum-backed types are held higher. */
export function floorFor(score: TypeScore): number {
  return score.validated ? 0.97 : 0.9;
}

/** One row per type; a second corpus's figures beside the first's, blank where it labels no text of the type. */
export function table(scores: readonly TypeScore[], beside?: readonly TypeScore[]): string {
  const cells = (s: TypeScore | undefined): string =>
    s === undefined || s.texts === 0 ? '| | | |' : `| ${s.tp + s.fn} | ${s.precision.toFixed(3)} | ${s.recall.toFixed(3)} |`;
  const head = beside === undefined ? '' : ' independent: labelled | precision | recall |';
  const rows = scores.map(
    (s) => `| \`${s.type}\` | ${s.validated ? 'yes' : ''} ${cells(s)}${beside === undefined ? '' : cells(beside.find((b) => b.type === s.type)).slice(1)}`,
  );
  return [`| type | checksum | labelled | precision | recall |${head}`, `|---|---|---|---|---|${beside === undefined ? '' : '---|---|---|'}`, ...rows].join(
    '\n',
  );
}

const short = (scores: readonly TypeScore[]): TypeScore[] => scores.filter((s) => s.texts > 0 && (s.precision < floorFor(s) || s.recall < floorFor(s)));

if (import.meta.filename === process.argv[1]) {
  const samples = loadCorpus();
  const scores = evaluate(samples);
  const dir = independentDir();
  const independent = dir === undefined ? undefined : loadIndependent(dir);
  const beside = independent === undefined ? undefined : evaluate(independent);
  console.log(`self-authored: ${samples.length} texts, ${samples.filter((s) => s.labels.length === 0).length} with look-alikes only`);
  if (independent === undefined) console.log('independent: not found (see independentDir in test/guardrails/corpus-eval.ts)');
  else console.log(`independent (${dir}): ${independent.length} texts, ${independent.filter((s) => s.labels.length === 0).length} with look-alikes only`);
  console.log(`\n${table(scores, beside)}`);
  if (independent !== undefined) {
    const missing = [...notCovered(independent)].map(([entity, n]) => `${entity} ${n}`);
    console.log(`\nlabelled by their origin, not covered by our types: ${missing.join(', ')}`);
  }
  const below = [...short(scores).map((s) => `${s.type} (self-authored)`), ...short(beside ?? []).map((s) => `${s.type} (independent)`)];
  if (below.length > 0) {
    console.log(`\nbelow the floor: ${below.join(', ')}`);
    process.exitCode = 1;
  }
}
