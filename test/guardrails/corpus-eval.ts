/**
 * Precision and recall of the detector per type on the labelled corpus (test/fixtures/guardrails/):
 * a finding is a true positive when it overlaps a labelled value of its own type; every other
 * finding is a false positive, every label no finding of its type overlaps a false negative.
 *   npm run guardrails:corpus
 */
import { readFileSync } from 'node:fs';
import { PiiDetector, RECOGNIZERS } from '../../extenders/builtin/guardrail/pii-detector.ts';
import type { Sample } from '../fixtures/guardrails/generate-corpus.ts';

export interface TypeScore {
  readonly type: string;
  readonly validated: boolean;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
}

export function loadCorpus(): Sample[] {
  const text = readFileSync(new URL('../fixtures/guardrails/corpus.jsonl', import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Sample);
}

export function evaluate(samples: readonly Sample[], detector = new PiiDetector()): TypeScore[] {
  const counts = new Map(RECOGNIZERS.map((r) => [r.type, { tp: 0, fp: 0, fn: 0 }]));
  const count = (type: string): { tp: number; fp: number; fn: number } => {
    let c = counts.get(type);
    if (c === undefined) counts.set(type, (c = { tp: 0, fp: 0, fn: 0 }));
    return c;
  };
  for (const s of samples) {
    const labels = s.labels.map((l) => {
      const start = s.text.indexOf(l.value);
      if (start < 0) throw new Error(`sample ${s.id}: label ${l.type} not in the text`);
      return { type: l.type, start, end: start + l.value.length, found: false };
    });
    for (const f of detector.scan(s.text)) {
      const label = labels.find((l) => l.type === f.type && f.start < l.end && l.start < f.end);
      if (label === undefined) count(f.type).fp++;
      else if (!label.found) {
        label.found = true;
        count(f.type).tp++;
      }
    }
    for (const l of labels) if (!l.found) count(l.type).fn++;
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

/** The figures each type must reach: checksum-backed types are held higher. */
export function floorFor(score: TypeScore): number {
  return score.validated ? 0.97 : 0.9;
}

export function table(scores: readonly TypeScore[]): string {
  const rows = scores.map((s) => `| \`${s.type}\` | ${s.validated ? 'yes' : ''} | ${s.tp + s.fn} | ${s.precision.toFixed(3)} | ${s.recall.toFixed(3)} |`);
  return ['| type | checksum | labelled | precision | recall |', '|---|---|---|---|---|', ...rows].join('\n');
}

if (import.meta.filename === process.argv[1]) {
  const samples = loadCorpus();
  const scores = evaluate(samples);
  console.log(`${samples.length} texts, ${samples.filter((s) => s.labels.length === 0).length} with look-alikes only\n`);
  console.log(table(scores));
  const short = scores.filter((s) => s.precision < floorFor(s) || s.recall < floorFor(s));
  if (short.length > 0) {
    console.log(`\nbelow the floor: ${short.map((s) => s.type).join(', ')}`);
    process.exitCode = 1;
  }
}
