/**
 * A plugin's failure never widens placement: a hung scheduler plugin takes only its share of the
 * request budget, and the nodes it did not answer for are rejected unless it is marked optional.
 * Run against the service as shipped: the example cluster, the shipped config and the built-ins.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { parse, stringify } from 'yaml';
import type { ExtenderArgs, ExtenderFilterResult } from '../../src/api/extender.ts';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import type { ResolvedPluginSettings } from '../../src/config/schema.ts';
import { RequestBudget } from '../../src/plugins/plugin-pass.ts';
import type { ActivePlugin } from '../../src/plugins/plugin-set.ts';
import { getGlobalRegistry } from '../../src/plugins/registry.ts';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import type { SchedulerTrace } from '../../src/scheduling/scheduler-trace.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';
import { REPO } from '../helpers/example-app.ts';
import { tempDir } from '../helpers/test-app.ts';

/** Never answers, and runs before every built-in. */
const hung: SchedulerPlugin = { name: () => 'hung', priority: () => 1000, filter: () => new Promise<boolean>(() => undefined) };
getGlobalRegistry().register('scheduler', hung, 'test');

const BUDGET_MS = 3000;

/** The shipped config, with `hung` listed with these settings (none: it runs with the defaults). */
async function shippedApp(t: Test, hungSettings?: Record<string, unknown>): Promise<NeuroNetesApp> {
  const doc = parse(await readFile(join(REPO, 'examples/config/neuronetes.yaml'), 'utf8')) as { 'scheduler-plugins': unknown[] };
  if (hungSettings !== undefined) doc['scheduler-plugins'].push({ name: 'hung', ...hungSettings });
  const configPath = join(await tempDir(t), 'neuronetes.yaml');
  await writeFile(configPath, stringify(doc));
  const logger = pino({ level: 'silent' });
  const cluster = new SnapshotSource({ path: join(REPO, 'examples/cluster'), log: logger, watch: false });
  const app = await buildApp({ cluster, configPath, logger, watchConfig: false });
  t.teardown(() => app.close());
  await app.ready();
  return app;
}

const gpuPodArgs = JSON.parse(await readFile(join(REPO, 'examples/requests/filter-code-assistant.json'), 'utf8')) as ExtenderArgs;

t.test('a hung plugin at the default timeout beside the built-ins: the CPU-only node is not kept', async (t) => {
  const app = await shippedApp(t);
  t.ok(gpuPodArgs.NodeNames?.includes('cpu-1'), 'the call offers the CPU-only node');
  const started = performance.now();
  const reply = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: gpuPodArgs })).json<ExtenderFilterResult>();
  const tookMs = performance.now() - started;
  t.notOk(reply.NodeNames?.includes('cpu-1'), 'cpu-1 is not kept for a GPU pod');
  t.same(reply.NodeNames, [], 'the hung plugin answered for no node, so none is kept');
  t.match(reply.FailedAndUnresolvableNodes['cpu-1'], /^hung: could not check this node \(timed out\): no answer from "hung" within its \d+ms deadline$/);
  t.equal(reply.Error, '');
  t.ok(tookMs < BUDGET_MS, `answered in ${Math.round(tookMs)} ms, inside the 3 s budget`);

  const [trace] = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json<{ decisions: SchedulerTrace[] }>().decisions;
  const pass = trace?.plugins[0];
  t.match(pass, { plugin: 'hung', timeouts: gpuPodArgs.NodeNames?.length, rejected: gpuPodArgs.NodeNames?.length });
  t.ok((pass?.durationMs ?? BUDGET_MS) < BUDGET_MS / 2, `the hung plugin took its share (${pass?.durationMs} ms), not the whole budget`);
});

t.test('the same hung plugin marked optional: the built-ins get their time and reject the CPU-only node', async (t) => {
  const app = await shippedApp(t, { optional: true });
  const reply = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: gpuPodArgs })).json<ExtenderFilterResult>();
  t.notOk(reply.NodeNames?.includes('cpu-1'), 'cpu-1 is not kept for a GPU pod');
  t.ok((reply.NodeNames?.length ?? 0) > 0, `GPU nodes are kept: ${reply.NodeNames?.join(', ')}`);
  const why = reply.FailedAndUnresolvableNodes['cpu-1'] ?? reply.FailedNodes['cpu-1'];
  t.ok(why !== undefined && !why.startsWith('hung:'), `a built-in rejected cpu-1: ${why}`);
  t.equal(reply.Error, '');
  const [trace] = (await app.inject('/debug/plugins/scheduler/trace?limit=1')).json<{ decisions: SchedulerTrace[] }>().decisions;
  const passes = trace?.plugins ?? [];
  t.match(passes[0], { plugin: 'hung', rejected: 0 });
  t.ok(passes.length > 1, 'the built-ins ran after it');
  t.same(
    passes.slice(1).filter((p) => p.timeouts > 0 || p.errors > 0),
    [],
    'no built-in timed out or failed',
  );
});

const settings = (timeoutMs: number): ResolvedPluginSettings => ({
  enabled: true,
  priority: undefined,
  weight: 1,
  timeoutMs,
  failurePolicy: 'Ignore',
  optional: false,
  mode: 'enforce',
  config: {},
});
const chainOf = (...timeouts: number[]): ActivePlugin[] =>
  timeouts.map((ms, i) => ({ type: 'scheduler', name: `p${i}`, plugin: hung, source: 'test', priority: 0, settings: settings(ms) }));

t.test('RequestBudget.shareOf: each plugin its timeout when all fit, else a share in proportion to the timeouts left', async (t) => {
  const budget = new RequestBudget(3000);
  const near = (actual: number, expected: number, what: string) => t.ok(Math.abs(actual - expected) < 25, `${what}: ${actual} ≈ ${expected}`);
  t.equal(budget.shareOf(chainOf(100, 200, 300), 0), 100, 'timeouts that fit the budget are kept whole');
  near(budget.shareOf(chainOf(5000, 5000, 5000), 0), 1000, 'three default timeouts: a third each');
  near(budget.shareOf(chainOf(5000, 5000, 5000), 2), 3000, 'the last plugin may use all that is left');
  near(budget.shareOf(chainOf(5000, 1000), 0), 2500, 'a plugin with a short timeout leaves more to one with a long one');
  t.equal(new RequestBudget(0).shareOf(chainOf(5000), 0), 0, 'nothing left, nothing to share');
});
