import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { stringify } from 'yaml';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import type { NeuroNetesApp } from '../../src/server/app.ts';
import { namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp, tempDir } from '../helpers/test-app.ts';

const gate: SchedulerPlugin = { name: () => 'gate', filter: (_c, _p, n) => n.metadata.name === 'n1' };
const cluster = { nodes: [node('n1'), node('n2')], pods: [], agentPools: [], agentClasses: [], models: [] };

/** Waits (bounded) until the app has seen a reload of either kind. */
async function reloadsSeen(app: NeuroNetesApp, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const text = await app.neuronetes.metrics.registry.getSingleMetricAsString('neuronetes_config_reloads_total');
    const total = [...text.matchAll(/ (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    if (total >= count) return;
    await sleep(50);
  }
  throw new Error(`no config reload after 10s (wanted ${count})`);
}

async function kept(app: NeuroNetesApp): Promise<string[]> {
  return (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('p'), ['n1', 'n2']) })).json().NodeNames;
}

t.test('a good change to the file is picked up; a bad one keeps the last good config', async (t) => {
  const { app, configPath } = await buildTestApp(t, { plugins: { scheduler: [gate] }, cluster, watchConfig: true });
  t.same(await kept(app), ['n1']);

  await writeFile(configPath, stringify({ 'scheduler-plugins': [{ name: 'gate', enabled: false }] }));
  await reloadsSeen(app, 1);
  t.same(await kept(app), ['n1', 'n2'], 'the plugin is disabled by the reload');

  await writeFile(configPath, 'scheduler-plugins: [{name: gate, timeout: eventually}]');
  await reloadsSeen(app, 2);
  t.same(await kept(app), ['n1', 'n2'], 'the bad reload changed nothing');
  const debug = (await app.inject('/debug/plugins')).json();
  t.match(debug.lastReloadError, /timeout: must match pattern/);
  const metrics = (await app.inject('/metrics')).body;
  t.match(metrics, /neuronetes_config_reloads_total\{result="failure"\} 1/);
  t.match(metrics, /neuronetes_config_last_reload_successful 0/);

  await writeFile(configPath, stringify({ 'scheduler-plugins': [{ name: 'ghost' }] }));
  await reloadsSeen(app, 3);
  t.match((await app.inject('/debug/plugins')).json().lastReloadError, /unknown plugin "ghost"/);
  t.same(await kept(app), ['n1', 'n2']);
});

t.test("a mounted ConfigMap's ..data symlink swap triggers a reload", async (t) => {
  const dir = await tempDir(t);
  for (const [version, enabled] of [
    ['..v1', true],
    ['..v2', false],
  ] as const) {
    await mkdir(join(dir, version));
    await writeFile(join(dir, version, 'scheduler-plugins'), stringify([{ name: 'gate', enabled }]));
  }
  await symlink('..v1', join(dir, '..data'));
  await symlink(join('..data', 'scheduler-plugins'), join(dir, 'scheduler-plugins'));
  const { app } = await buildTestApp(t, { plugins: { scheduler: [gate] }, cluster, configPath: dir, watchConfig: true });
  t.same(await kept(app), ['n1']);

  // What the kubelet does: a new ..data link renamed over the old one, atomically.
  await symlink('..v2', join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  await reloadsSeen(app, 1);
  t.same(await kept(app), ['n1', 'n2']);
});

async function reloadCounts(app: NeuroNetesApp): Promise<{ success: number; failure: number }> {
  const text = await app.neuronetes.metrics.registry.getSingleMetricAsString('neuronetes_config_reloads_total');
  const count = (result: string): number => Number(new RegExp(`result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { success: count('success'), failure: count('failure') };
}

const gateOff = { 'scheduler-plugins': [{ name: 'gate', enabled: false }] };

t.test('an empty config file is rejected on reload: the last good config stays, logged and counted', async (t) => {
  const { app, configPath } = await buildTestApp(t, { plugins: { scheduler: [gate] }, cluster, config: gateOff });
  t.same(await kept(app), ['n1', 'n2'], 'the gate is disabled');
  for (const empty of ['', '  \n', '# all commented out\n']) {
    await writeFile(configPath, empty);
    const result = await app.neuronetes.config.reload();
    t.same(result.ok, false, JSON.stringify(empty));
    t.match(result.error, /config\.yaml is empty \(no YAML document\); write \{\} for the defaults/);
    t.same(await kept(app), ['n1', 'n2'], 'the disabled plugin stays disabled: no fallback to the defaults');
  }
  t.match((await app.inject('/debug/plugins')).json().lastReloadError, /is empty/);
  t.same(await reloadCounts(app), { success: 0, failure: 3 });
  t.match((await app.inject('/metrics')).body, /neuronetes_config_last_reload_successful 0/);
});

t.test('a truncate-then-write edit never applies the empty file in between', async (t) => {
  const { app, configPath } = await buildTestApp(t, { plugins: { scheduler: [gate] }, cluster, config: gateOff, watchConfig: true });
  t.same(await kept(app), ['n1', 'n2']);
  // As `cat new.yaml > config.yaml` or an editor's save does, with the 0.6 s between the steps.
  await writeFile(configPath, '');
  const seen = new Set<string>();
  const until = performance.now() + 600;
  while (performance.now() < until) {
    seen.add((await kept(app)).join(','));
    await sleep(50);
  }
  await writeFile(configPath, stringify({ 'scheduler-plugins': [{ name: 'gate', enabled: false, weight: 3 }] }));
  await reloadsSeen(app, 1);
  t.same([...seen], ['n1,n2'], 'while the file was empty, the gate stayed disabled');
  t.equal((await app.inject('/debug/plugins')).json().scheduler[0].weight, 3, 'the written config applied');
  t.same(await reloadCounts(app), { success: 1, failure: 0 }, 'the empty intermediate was never reloaded');
});

t.test('a file left empty is reloaded after the grace, and rejected', async (t) => {
  const { app, configPath } = await buildTestApp(t, { plugins: { scheduler: [gate] }, cluster, watchConfig: true });
  await writeFile(configPath, '');
  await reloadsSeen(app, 1);
  t.same(await reloadCounts(app), { success: 0, failure: 1 });
  t.same(await kept(app), ['n1'], 'the gate, enabled by the last good config, still filters');
});
