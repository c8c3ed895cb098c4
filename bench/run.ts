/**
 * `npm run bench [-- options]`: runs the scenarios, prints the table and the headline figures, writes
 * bench/results/latest.json, and with --check compares against bench/baseline.json.
 *
 *   --quick              100 nodes, a few calls per scenario: a smoke test of the harness
 *   --only <text>        only scenarios whose id contains the text (repeatable, or comma-separated)
 *   --nodes 100,1000     cluster sizes (default 100,1000,5000)
 *   --check              fail (exit 1) when a figure regressed past the tolerance against the baseline
 *   --write-baseline     also write this run as bench/baseline.json
 *   --cpu-prof           profile the server; prints its hottest functions (profiles in bench/results/profiles)
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { arch, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatHottest, hottest } from './profile-summary.ts';
import { check, headline, table, TOLERANCE, type Results } from './report.ts';
import { runPlan, type Plan } from './scenarios.ts';

const BENCH_DIR = import.meta.dirname;
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const BASELINE = join(BENCH_DIR, 'baseline.json');
const PROFILE_DIR = join(RESULTS_DIR, 'profiles');

export interface RunOptions {
  quick: boolean;
  only: string[];
  nodes: number[];
  seed: number;
  check: boolean;
  writeBaseline: boolean;
  cpuProf: boolean;
  /** Where latest.json goes (tests use a temp folder). */
  resultsDir: string;
  log: (line: string) => void;
}

export function parseOptions(argv: readonly string[]): Omit<RunOptions, 'log' | 'resultsDir'> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true, default: [] },
      nodes: { type: 'string' },
      seed: { type: 'string', default: '1' },
      check: { type: 'boolean', default: false },
      'write-baseline': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick;
  // A quick run's few calls per scenario measure warm-up more than speed: nothing to compare.
  if (quick && values.check) throw new Error('--check compares full runs against the baseline; drop --quick');
  const nodes = (values.nodes ?? (quick ? '100' : '100,1000,5000')).split(',').map((s) => Number(s.trim()));
  if (nodes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--nodes takes whole numbers, comma-separated; got "${values.nodes}"`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed takes a whole number; got "${values.seed}"`);
  return {
    quick,
    only: values.only
      .flatMap((o) => o.split(','))
      .map((o) => o.trim())
      .filter((o) => o !== ''),
    nodes,
    seed,
    check: values.check,
    writeBaseline: values['write-baseline'],
    cpuProf: values['cpu-prof'],
  };
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** Runs the bench; returns the results and whether --check passed (true when not checking). */
export async function runBench(options: RunOptions): Promise<{ results: Results; passed: boolean }> {
  const started = Date.now();
  const load = loadavg().map((x) => Math.round(x * 100) / 100);
  const plan: Plan = {
    sizes: options.nodes,
    seed: options.seed,
    quick: options.quick,
    only: options.only,
    execArgv: options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [],
    memoryCalls: options.quick ? 200 : 10_000,
    reloads: options.quick ? 5 : 50,
    log: options.log,
  };
  if (options.cpuProf) await mkdir(PROFILE_DIR, { recursive: true });
  const profilesBefore = options.cpuProf ? new Set(await readdir(PROFILE_DIR)) : new Set<string>();
  const rows = await runPlan(plan);
  const results: Results = {
    meta: {
      date: new Date(started).toISOString(),
      durationS: Math.round((Date.now() - started) / 1000),
      commit: gitCommit(),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      arch: arch(),
      memoryGb: Math.round(totalmem() / 2 ** 30),
      loadAverageAtStart: load,
      loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
      quick: options.quick,
      only: options.only,
      sizes: options.nodes,
      seed: options.seed,
    },
    rows,
  };
  await mkdir(options.resultsDir, { recursive: true });
  await writeFile(join(options.resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (options.writeBaseline) await writeFile(BASELINE, `${JSON.stringify(results, null, 2)}\n`);

  options.log('');
  options.log(table(rows));
  options.log('');
  for (const line of headline(rows)) options.log(line);
  options.log(
    `machine: ${String(results.meta['cpu'])}, ${String(results.meta['cores'])} cores, load average ${load.join(' ')} at start (shared machine: expect noise)`,
  );
  options.log(`wrote ${join(options.resultsDir, 'latest.json')} in ${String(results.meta['durationS'])} s`);

  if (options.cpuProf) {
    for (const file of (await readdir(PROFILE_DIR)).filter((f) => f.endsWith('.cpuprofile') && !profilesBefore.has(f))) {
      options.log('');
      options.log(formatHottest(join(PROFILE_DIR, file), await hottest(join(PROFILE_DIR, file))));
    }
  }

  let passed = true;
  if (options.check) {
    const baseline = JSON.parse(await readFile(BASELINE, 'utf8')) as Results;
    const { failures, compared } = check(results, baseline);
    options.log('');
    options.log(
      `check against ${BASELINE} (CPU per call and p50 ≤ ${TOLERANCE.latency}× +${TOLERANCE.latencySlackMs} ms, throughput ≥ 1/${TOLERANCE.throughput}, CPU ratio to the floor ≤ ${TOLERANCE.ratio}×, memory ≤ ${TOLERANCE.memory}× +${TOLERANCE.memorySlackMb} MB): ${compared} figures compared`,
    );
    for (const f of failures) options.log(`  REGRESSED ${f.id}: ${f.what}`);
    if (compared === 0) options.log("  nothing to compare: this run measured none of the baseline's scenarios");
    passed = failures.length === 0 && compared > 0;
    options.log(passed ? 'check passed' : 'check FAILED');
  }
  return { results, passed };
}

if (import.meta.main) {
  try {
    const options = parseOptions(process.argv.slice(2));
    const { passed } = await runBench({ ...options, resultsDir: RESULTS_DIR, log: (line) => console.log(line) });
    process.exitCode = passed ? 0 : 1;
  } catch (e: unknown) {
    console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  }
}
