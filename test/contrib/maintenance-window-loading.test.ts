/**
 * The service loads the contributed plugin by name, as a user would: this file does not import the
 * module itself, so the registration seen here is the module loader's.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { buildApp, SnapshotSource } from 'neuronetes';
import { agentPool, gpuNode, pod } from 'neuronetes/testing';

t.test('plugins: [neuronetes:contrib/maintenance-window] loads it; its config is checked; it filters', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nn-contrib-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = pino({ level: 'silent' });
  const soon = String(Math.floor(Date.now() / 1000) + 20 * 60);
  const objects = {
    nodes: [gpuNode({ name: 'clear' }), gpuNode({ name: 'soon', labels: { 'cloud.google.com/scheduled-maintenance-time': soon } })],
    pods: [],
    agentPools: [agentPool({ name: 'chat' })],
    agentClasses: [],
    models: [],
  };
  const start = async (config: string) => {
    await writeFile(join(dir, 'config.yaml'), `plugins: [neuronetes:contrib/maintenance-window]\n${config}`);
    const app = await buildApp({
      cluster: new SnapshotSource({ objects, log, watch: false }),
      configPath: join(dir, 'config.yaml'),
      watchConfig: false,
      logger: log,
    });
    t.teardown(() => app.close());
    await app.ready();
    return app;
  };

  await t.rejects(start('scheduler-plugins:\n  - { name: maintenance-window, config: { avoidWithin: soon } }\n'), {
    name: 'ConfigError',
    message: /scheduler-plugins "maintenance-window": config\.avoidWithin is "soon"/,
  });

  const app = await start('scheduler-plugins:\n  - { name: maintenance-window, config: { avoidWithin: 30m } }\n');
  const listed = (await app.inject({ url: '/debug/plugins' })).json<{ scheduler: { name: string; enabled: boolean; source: string }[] }>();
  t.match(
    listed.scheduler.find((x) => x.name === 'maintenance-window'),
    { enabled: true, source: 'neuronetes:contrib/maintenance-window' },
  );
  const filtered = (
    await app.inject({ method: 'POST', url: '/scheduler/filter', payload: { Pod: pod({ name: 'p', pool: 'chat' }), NodeNames: ['clear', 'soon'] } })
  ).json<{
    NodeNames: string[];
    FailedAndUnresolvableNodes: Record<string, string>;
  }>();
  t.same(filtered.NodeNames, ['clear']);
  t.match(filtered.FailedAndUnresolvableNodes, { soon: /^maintenance-window: maintenance starts in 20m/ });
});
