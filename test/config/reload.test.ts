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
  for (let i = 0; i < 100; i++) {
    const text = await app.neuronetes.metrics.registry.getSingleMetricAsString('neuronetes_config_reloads_total');
    const total = [...text.matchAll(/ (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    if (total >= count) return;
    await sleep(50);
  }
  throw new Error(`no config reload after 5s (wanted ${count})`);
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

t.test('a mounted ConfigMap\'s ..data symlink swap triggers a reload', async (t) => {
  const dir = await tempDir(t);
  for (const [version, enabled] of [['..v1', true], ['..v2', false]] as const) {
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
