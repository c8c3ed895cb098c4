import { join } from 'node:path';
import t from 'tap';
import { pino } from 'pino';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { buildApp } from '../../src/server/app.ts';

const root = join(import.meta.dirname, '..', '..');

t.test('the shipped config on the bundled cluster: what `npm start` serves', async (t) => {
  const log = pino({ level: 'silent' });
  const app = await buildApp({
    cluster: new SnapshotSource({ log, path: join(root, 'examples', 'cluster'), watch: false }),
    logger: log,
    configPath: join(root, 'examples', 'config', 'neuronetes.yaml'),
    watchConfig: false,
  });
  t.teardown(() => app.close());
  await app.ready();
  const plugins = (await app.inject('/debug/plugins')).json();
  const example = plugins.scheduler.find((p: { name: string }) => p.name === 'custom-scheduler');
  t.match(example, { enabled: false, source: 'neuronetes:examples/custom-scheduler' }, 'guide examples are loadable but disabled');
  t.equal((await app.inject('/readyz')).statusCode, 200);
  t.ok(app.neuronetes.cluster.view().nodes().length >= 12, 'a dozen nodes in the example cluster');
});
