/**
 * The plugin guide's "Testing Plugins" example in TypeScript: the plugin run by the kit as the service
 * runs it, then through the real HTTP app.
 */
import t from 'tap';
import { getGlobalRegistry } from 'neuronetes';
import { agentPool, cpuNode, pod, runFilter, runScore } from 'neuronetes/testing';
import { CustomScheduler } from '../../extenders/examples/custom-scheduler.ts';
import { namesArgs } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const met = cpuNode({ name: 'met', labels: { 'custom-requirement': 'met' } });
const fast = cpuNode({ name: 'fast', labels: { 'custom-requirement': 'met', 'performance-tier': 'high' } });
const unmet = cpuNode({ name: 'unmet', labels: { 'performance-tier': 'high' } });

t.test('TestCustomScheduler', async (t) => {
  const scheduler = new CustomScheduler();
  const run = { pod: pod({ name: 'p', pool: 'chat' }), pool: agentPool({ name: 'chat' }), nodes: [met, fast, unmet] };

  const filtered = await runFilter(scheduler, run);
  t.same(
    filtered.map((f) => [f.node, f.passed]),
    [
      ['met', true],
      ['fast', true],
      ['unmet', false],
    ],
  );

  // runScore rejects a score outside 0..100, so a passing run already holds the guide's bounds.
  const scored = await runScore(scheduler, run);
  t.same(scored, [
    { node: 'met', score: 50 },
    { node: 'fast', score: 80 },
    { node: 'unmet', score: 80 },
  ]);
});

t.test("importing the module registers it, as the guide's init() does", async (t) => {
  const entry = getGlobalRegistry().get('scheduler', 'custom-scheduler');
  t.ok(entry, 'registered in the global registry');
  t.equal(entry?.priority, 200);
});

t.test('enabled through config, it decides through real HTTP', async (t) => {
  const { app } = await buildTestApp(t, {
    plugins: { scheduler: [new CustomScheduler()] },
    cluster: { nodes: [met, fast, unmet], pods: [], agentPools: [], agentClasses: [], models: [] },
  });
  const p = pod({ name: 'p' });
  const filtered = (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(p, ['met', 'fast', 'unmet']) })).json();
  t.same(filtered.NodeNames, ['met', 'fast']);
  t.same(filtered.FailedNodes, { unmet: 'custom-scheduler: rejected by custom-scheduler' });
  const scored = (await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: namesArgs(p, ['met', 'fast']) })).json();
  t.same(
    scored,
    [
      { Host: 'met', Score: 7 },
      { Host: 'fast', Score: 10 },
    ],
    'fast (80) is the best; met (50) is 30 points behind',
  );
});
