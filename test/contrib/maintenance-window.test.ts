/** The contributed maintenance-window plugin, tested with neuronetes/testing (maintenance-window-loading.test.ts: by the service). */
import t from 'tap';
import type { Node } from 'neuronetes';
import { agentPool, clusterView, gpuNode, pod, runFilter, runScore, type GpuNodeOptions } from 'neuronetes/testing';
import { maintenanceWindow } from '../../extenders/contrib/maintenance-window/index.ts';

const HOUR = 3_600_000;
const at = (ms: number): string => new Date(Date.now() + ms).toISOString();
const unix = (ms: number): string => String(Math.floor((Date.now() + ms) / 1000));

const pool = agentPool({ name: 'chat', gpu: { count: 1, type: 'H100' } });
const p = pod({ name: 'p', pool: 'chat', gpus: 1 });
const h100 = (name: string, o: Partial<GpuNodeOptions> = {}): Node => gpuNode({ name, product: 'NVIDIA-H100-80GB-HBM3', ...o });

const nodes = [
  h100('clear'),
  h100('cordoned', { unschedulable: true }),
  h100('labelled', { labels: { 'neuronetes.io/draining': 'true' } }),
  h100('not-draining', { labels: { 'neuronetes.io/draining': 'false' } }),
  h100('removed', { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', value: '1733000000', effect: 'NoSchedule' }] }),
  h100('in-maintenance', { annotations: { 'neuronetes.io/maintenance-window': `${at(-HOUR)}/${at(HOUR)}` } }),
  h100('soon', { labels: { 'cloud.google.com/scheduled-maintenance-time': unix(20 * 60_000) } }),
  h100('later', { annotations: { 'neuronetes.io/maintenance-window': at(12 * HOUR) } }),
  h100('done', { annotations: { 'neuronetes.io/maintenance-window': `${at(-3 * HOUR)}/${at(-HOUR)}` } }),
  h100('typo', { annotations: { 'neuronetes.io/maintenance-window': 'next tuesday' } }),
];

t.test('filter: draining, removed, cordoned and soon-maintained nodes are out, as unresolvable', async (t) => {
  const answers = await runFilter(maintenanceWindow, { pod: p, pool, nodes });
  const byNode = Object.fromEntries(answers.map((a) => [a.node, a]));
  t.same(
    answers.filter((a) => a.passed).map((a) => a.node),
    ['clear', 'not-draining', 'later', 'done'],
  );
  t.ok(
    answers.filter((a) => !a.passed).every((a) => a.unresolvable),
    'preemption cannot help',
  );
  t.equal(byNode['cordoned']?.reason, 'node is cordoned');
  t.equal(byNode['labelled']?.reason, 'node is draining (neuronetes.io/draining=true)');
  t.equal(byNode['removed']?.reason, 'node is being removed (taint ToBeDeletedByClusterAutoscaler:NoSchedule)');
  t.equal(byNode['in-maintenance']?.reason, 'node is in maintenance (annotation neuronetes.io/maintenance-window)');
  t.equal(byNode['soon']?.reason, 'maintenance starts in 20m (label cloud.google.com/scheduled-maintenance-time); agent pods avoid nodes within 1h of it');
  t.match(byNode['typo']?.reason, /^maintenance time unreadable: annotation neuronetes\.io\/maintenance-window "next tuesday" is not/);
});

t.test('filter: the labels, taints, annotation and lead time are the config’s', async (t) => {
  const config = { drainingLabels: ['example.com/retiring'], drainingTaints: [], windowAnnotation: 'example.com/window', startLabels: [], avoidWithin: '10m' };
  const mine = [
    h100('retiring', { labels: { 'example.com/retiring': 'yes' } }),
    h100('removed', { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] }),
    h100('soon', { labels: { 'cloud.google.com/scheduled-maintenance-time': unix(20 * 60_000) } }),
    h100('own-soon', { annotations: { 'example.com/window': at(5 * 60_000) } }),
  ];
  const answers = await runFilter(maintenanceWindow, { pod: p, pool, nodes: mine, config });
  t.same(
    answers.map((a) => [a.node, a.passed]),
    [
      ['retiring', false],
      ['removed', true],
      ['soon', true],
      ['own-soon', false],
    ],
  );
  await t.rejects(runFilter(maintenanceWindow, { pod: p, pool, nodes, config: { avoidWithin: 'an hour' } }), {
    name: 'ConfigError',
    message: /config\.avoidWithin is "an hour"/,
  });
  await t.rejects(runFilter(maintenanceWindow, { pod: p, pool, nodes, config: { horizon: '0s' } }), /could not be made: config\.horizon must be longer than 0/);
});

t.test('score: lower the sooner maintenance starts; no preference when no node has any', async (t) => {
  const ahead = [
    h100('clear'),
    h100('in-6h', { annotations: { 'neuronetes.io/maintenance-window': at(6 * HOUR) } }),
    h100('in-2d', { labels: { 'cloud.google.com/scheduled-maintenance-time': unix(48 * HOUR) } }),
    h100('done', { annotations: { 'neuronetes.io/maintenance-window': `${at(-2 * HOUR)}/${at(-HOUR)}` } }),
  ];
  t.same(await runScore(maintenanceWindow, { pod: p, pool, nodes: ahead }), [
    { node: 'clear', score: 100 },
    { node: 'in-6h', score: 25 },
    { node: 'in-2d', score: 100 },
    { node: 'done', score: 100 },
  ]);
  t.same(await runScore(maintenanceWindow, { pod: p, pool, nodes: ahead, config: { horizon: '12h' } }), [
    { node: 'clear', score: 100 },
    { node: 'in-6h', score: 50 },
    { node: 'in-2d', score: 100 },
    { node: 'done', score: 100 },
  ]);
  const quiet = [h100('a'), h100('b')];
  t.same(
    await runScore(maintenanceWindow, { pod: p, pool, nodes: quiet, cluster: clusterView({ nodes: quiet, pools: [pool] }) }),
    [],
    'SKIP: nothing to prefer',
  );
});
