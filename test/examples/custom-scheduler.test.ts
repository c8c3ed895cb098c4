import t from 'tap';
import { CustomScheduler } from '../../extenders/examples/custom-scheduler.ts';
import { getGlobalRegistry } from '../../src/plugins/registry.ts';
import { namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const met = node('met', { 'custom-requirement': 'met' });
const fast = node('fast', { 'custom-requirement': 'met', 'performance-tier': 'high' });
const unmet = node('unmet', { 'performance-tier': 'high' });

t.test('the guide\'s example: filter on custom-requirement, +30 for performance-tier=high', async (t) => {
  const s = new CustomScheduler();
  const ctx = {} as never;
  t.equal(s.filter(ctx, pod('p'), met), true);
  t.equal(s.filter(ctx, pod('p'), unmet), false);
  t.equal(s.score(ctx, pod('p'), met), 50);
  t.equal(s.score(ctx, pod('p'), fast), 80);
  t.equal(s.priority(), 200);
});

t.test('importing the module registers it, as the guide\'s init() does', async (t) => {
  const entry = getGlobalRegistry().get('scheduler', 'custom-scheduler');
  t.ok(entry, 'registered in the global registry');
  t.equal(entry?.priority, 200);
});

t.test('enabled through config, it decides through real HTTP', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [new CustomScheduler()] }, cluster: { nodes: [met, fast, unmet], pods: [], agentPools: [], agentClasses: [], models: [] } });
  const filtered = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('p'), ['met', 'fast', 'unmet']) })).json();
  t.same(filtered.NodeNames, ['met', 'fast']);
  t.same(filtered.FailedNodes, { unmet: 'custom-scheduler: rejected by custom-scheduler' });
  const scored = (await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(pod('p'), ['met', 'fast']) })).json();
  t.same(scored, [{ Host: 'met', Score: 7 }, { Host: 'fast', Score: 10 }], 'fast (80) is the best; met (50) is 30 points behind');
});
