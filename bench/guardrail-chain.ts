/**
 * The default guardrail chain in process, on one core: the real service (policy lookup, chain,
 * trace, metrics) asked directly, without HTTP, on agent traffic of 1 KB, 10 KB and 100 KB built from
 * the labelled corpus (so the texts carry the usual share of findings and look-alikes).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SnapshotSource } from '../src/cluster/snapshot-source.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { buildApp } from '../src/server/app.ts';
import { loadCorpus } from '../test/guardrails/corpus-eval.ts';
import type { Plan, Row } from './scenarios.ts';

/** Characters; 100 KB is 100,000 so that the default max-length (100000) lets it through. */
export const GUARDRAIL_SIZES = [1_000, 10_000, 100_000] as const;

/** Corpus texts joined until the size is reached, starting at a different text for each variant. */
function texts(size: number, variants: number): string[] {
  const corpus = loadCorpus().map((s) => s.text);
  return Array.from({ length: variants }, (_, v) => {
    let out = '';
    for (let i = v * 7; out.length < size; i++) out += `${corpus[i % corpus.length] as string}\n`;
    return out.slice(0, size);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

export async function guardrailChainScenarios(plan: Plan, rows: Row[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'neuronetes-bench-'));
  const log = pino({ level: 'silent' });
  await writeFile(join(dir, 'cluster.yaml'), '');
  await writeFile(join(dir, 'config.yaml'), '{}');
  const app = await buildApp({
    cluster: new SnapshotSource({ path: join(dir, 'cluster.yaml'), log, watch: false }),
    configPath: join(dir, 'config.yaml'),
    watchConfig: false,
    logger: log,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  try {
    await app.ready();
    const service = app.neuronetes.guardrails;
    for (const size of GUARDRAIL_SIZES) {
      const id = `guardrails/chain/${size / 1000}kb`;
      const inputs = texts(size, 16);
      const maxMs = plan.quick ? 300 : 3_000;
      // A second of warm-up: with 200 checks the first size still paid for the JIT and start-up garbage (0.56 against 0.4 ms CPU at 1 KB).
      const warmUntil = performance.now() + (plan.quick ? 0 : 1_000);
      for (let i = 0; i < 5 || performance.now() < warmUntil; i++)
        await service.check({ content: inputs[i % inputs.length] as string, direction: 'input' }, log);
      const durations: number[] = [];
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      while (performance.now() - started < maxMs && durations.length < 200_000) {
        const t0 = performance.now();
        await service.check({ content: inputs[durations.length % inputs.length] as string, direction: 'input' }, log);
        durations.push(performance.now() - t0);
      }
      const wall = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      durations.sort((a, b) => a - b);
      const round = (n: number): number => Math.round(n * 1000) / 1000;
      const row: Row = {
        id,
        kind: 'latency',
        calls: durations.length,
        p50Ms: round(percentile(durations, 0.5)),
        p99Ms: round(percentile(durations, 0.99)),
        callsPerSec: Math.round((durations.length / wall) * 1000),
        requestBytes: size,
        cpuMsPerCall: round((cpu.user + cpu.system) / 1000 / durations.length),
        note: 'in process, one core: the default guardrail chain via GuardrailService.check, no HTTP',
      };
      rows.push(row);
      plan.log(`  ${id}: ${row.callsPerSec} checks/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ${row.cpuMsPerCall} ms CPU/check`);
    }
  } finally {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
}
