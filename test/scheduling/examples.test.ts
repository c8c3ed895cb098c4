/**
 * The example cluster through the real HTTP app: for each pending example pod, both request bodies in
 * examples/requests pick the winner the README documents, every built-in plugin decides something,
 * and the trace explains rejections in words.
 */
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import type { ExtenderArgs } from '../../src/api/extender.ts';
import type { SchedulerTrace } from '../../src/scheduling/scheduler-trace.ts';
import { buildExampleApp, placePod, REPO } from '../helpers/example-app.ts';

const WINNERS: Record<string, string> = {
  'code-assistant-2': 'gpu-a100-1',
  'support-bot-3': 'gpu-l4-1',
  'triage-agent-1': 'gpu-a100-mig-1',
  'research-agent-1': 'gpu-h100-4',
};

const requestFiles = readdirSync(`${REPO}examples/requests`)
  .filter((f) => f.endsWith('.json'))
  .sort();
const readRequest = (file: string): ExtenderArgs => JSON.parse(readFileSync(`${REPO}examples/requests/${file}`, 'utf8')) as ExtenderArgs;

/** `| \`pod\` | … | \`winner\` | …` rows of the README's scheduling section. */
function readmeWinners(): Record<string, string> {
  const readme = readFileSync(`${REPO}README.md`, 'utf8');
  const start = readme.indexOf('## Scheduling');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const out: Record<string, string> = {};
  for (const m of section.matchAll(/^\| `([a-z0-9-]+)` \| .*? \| \*\*`([a-z0-9-]+)`\*\* \|/gm)) out[m[1] as string] = m[2] as string;
  return out;
}

const { app, cluster } = await buildExampleApp();
t.teardown(() => app.close());

t.test('the shipped config enables the built-ins with their weights, filters in order', async (t) => {
  const res = await app.inject({ url: '/debug/plugins' });
  const builtins = res
    .json<{ scheduler: { name: string; priority: number; weight: number; enabled: boolean; source: string }[] }>()
    .scheduler.filter((p) => p.source === 'neuronetes:builtin/index')
    .map(({ name, priority, weight, enabled }) => ({ name, priority, weight, enabled }));
  t.same(builtins, [
    { name: 'node-selector', priority: 300, weight: 1, enabled: true },
    { name: 'cost', priority: 280, weight: 15, enabled: true },
    { name: 'topology', priority: 260, weight: 25, enabled: true },
    { name: 'mig', priority: 240, weight: 1, enabled: true },
    { name: 'gpu-fit', priority: 220, weight: 30, enabled: true },
    { name: 'data-locality', priority: 100, weight: 10, enabled: true },
    { name: 'model-cache', priority: 100, weight: 20, enabled: true },
    { name: 'pool-priority', priority: 100, weight: 1, enabled: true },
    { name: 'pool-spread', priority: 100, weight: 5, enabled: true },
  ]);
});

t.test('every pending example pod has a names-mode and a full-node request matching the cluster', async (t) => {
  const view = cluster.view();
  const nodeNames = view.nodes().map((n) => n.metadata.name);
  const pending = view.pods().filter((p) => (p.spec?.nodeName ?? '') === '');
  t.same(pending.map((p) => p.metadata.name).sort(), Object.keys(WINNERS).sort(), 'the pending pods are the documented ones');
  for (const pod of pending) {
    const pool = pod.metadata.labels?.['neuronetes.io/agent-pool'] ?? '';
    const names = readRequest(`filter-${pool}.json`);
    const full = readRequest(`filter-${pool}-full-nodes.json`);
    t.same(names.Pod, pod, `${pool}: names-mode Pod`);
    t.same(names.NodeNames, nodeNames, `${pool}: every node named`);
    t.same(full.Pod, pod, `${pool}: full-node Pod`);
    t.same(full.Nodes?.items, view.nodes(), `${pool}: every node sent in full`);
  }
  t.equal(requestFiles.length, 2 * pending.length, 'no stray request files');
});

t.test('each request picks the documented winner, and the README says the same', async (t) => {
  const documented = readmeWinners();
  t.same(documented, WINNERS, 'README table');
  for (const file of requestFiles) {
    const args = readRequest(file);
    const { winner } = await placePod(app, args);
    t.equal(winner, WINNERS[args.Pod.metadata.name ?? ''], `${file} → ${winner}`);
  }
});

t.test('every built-in plugin decides something in the examples', async (t) => {
  const rejectedBy = new Set<string>();
  const scoredApart = new Set<string>();
  for (const file of requestFiles.filter((f) => !f.endsWith('-full-nodes.json'))) {
    const { filter, survivors, scores } = await placePod(app, readRequest(file));
    for (const reason of [...Object.values(filter.FailedNodes), ...Object.values(filter.FailedAndUnresolvableNodes)])
      rejectedBy.add(reason.split(':')[0] as string);
    t.equal(
      scores.length,
      survivors.length + Object.keys(filter.FailedNodes).length + Object.keys(filter.FailedAndUnresolvableNodes).length,
      `${file}: every node scored`,
    );
    const trace = (await app.inject({ url: `/debug/plugins/scheduler/trace?pod=${readRequest(file).Pod.metadata.name ?? ''}&limit=1` })).json<{
      decisions: SchedulerTrace[];
    }>();
    const perNode = survivors.map((n) => trace.decisions[0]?.nodes[n]?.scores ?? {});
    for (const plugin of Object.keys(perNode[0] ?? {})) if (new Set(perNode.map((s) => s[plugin])).size > 1) scoredApart.add(plugin);
  }
  t.same([...rejectedBy].sort(), ['cost', 'gpu-fit', 'mig', 'node-selector', 'topology'], 'filters that rejected a node');
  t.same([...scoredApart].sort(), ['cost', 'data-locality', 'gpu-fit', 'model-cache', 'pool-spread'], 'scorers that told survivors apart');
});

t.test('the trace explains rejections with the pod and its pool', async (t) => {
  await placePod(app, readRequest('filter-support-bot.json'));
  const res = await app.inject({ url: '/debug/plugins/scheduler/trace?pod=agents/support-bot-3&limit=2' });
  const [prioritize, filter] = res.json<{ decisions: SchedulerTrace[] }>().decisions;
  t.equal(filter?.verb, 'filter');
  t.equal(filter?.pod, 'agents/support-bot-3');
  t.equal(filter?.pool, 'agents/support-bot');
  t.same(filter?.nodes['gpu-l4-3'], { kept: false, rejectedBy: 'gpu-fit', reason: 'needs 1×L4 24Gi, node has 0 free (1 of 1 in use)' });
  t.same(filter?.nodes['gpu-h100-1'], {
    kept: false,
    rejectedBy: 'cost',
    reason: 'costs $98.32/h (neuronetes.io/cost-per-hour), the pool allows at most $5.00/h',
    unresolvable: true,
  });
  t.match(filter?.summary, /kept 2 of 14 nodes; rejected .*cost: 9/);
  t.equal(prioritize?.verb, 'prioritize');
  t.match(prioritize?.nodes['gpu-l4-1'], { wireScore: 10, scores: { 'model-cache': 100, 'gpu-fit': 75, topology: null } });
});

t.test('each built-in sits out a call whose pool asks nothing of it', async (t) => {
  const skipped = async (args: ExtenderArgs): Promise<Record<string, string[]>> => {
    await app.inject({ method: 'POST', url: '/scheduler/filter', payload: args });
    await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: args });
    const { decisions } = (await app.inject({ url: '/debug/plugins/scheduler/trace?limit=2' })).json<{ decisions: SchedulerTrace[] }>();
    return Object.fromEntries(decisions.map((d) => [d.verb, d.plugins.filter((p) => p.skipped === true).map((p) => p.plugin)]));
  };
  // Read off the pools in examples/cluster: code-assistant has no selector, cost policy or MIG
  // profile; support-bot no selector, locality, MIG or data locality; triage-agent is a MIG pool
  // with neither cost policy nor locality; research-agent asks for no locality or MIG.
  t.same(await skipped(readRequest('filter-code-assistant.json')), { prioritize: ['cost'], filter: ['node-selector', 'cost', 'mig'] });
  t.same(await skipped(readRequest('filter-support-bot.json')), { prioritize: ['topology', 'data-locality'], filter: ['node-selector', 'topology', 'mig'] });
  t.same(await skipped(readRequest('filter-triage-agent.json')), {
    prioritize: ['cost', 'topology', 'gpu-fit', 'data-locality'],
    filter: ['node-selector', 'cost', 'topology'],
  });
  t.same(await skipped(readRequest('filter-research-agent.json')), { prioritize: ['topology'], filter: ['topology', 'mig'] });
  const plain: ExtenderArgs = {
    ...readRequest('filter-support-bot.json'),
    Pod: { metadata: { name: 'web-0', namespace: 'default' }, spec: { containers: [{ name: 'web' }] } },
  };
  t.same(
    await skipped(plain),
    {
      prioritize: ['cost', 'topology', 'gpu-fit', 'data-locality', 'model-cache', 'pool-spread'],
      filter: ['node-selector', 'cost', 'topology', 'mig', 'gpu-fit'],
    },
    'a pod of no pool: every built-in sits out',
  );
});

t.test('a capacity shortfall goes to FailedNodes, mismatches to FailedAndUnresolvableNodes', async (t) => {
  const { filter } = await placePod(app, readRequest('filter-triage-agent-full-nodes.json'));
  t.same(Object.keys(filter.FailedNodes), ['gpu-a100-mig-2']);
  t.equal(filter.FailedNodes['gpu-a100-mig-2'], 'mig: needs a 2g.10gb MIG slice; all 1 on the node are in use');
  t.equal(Object.keys(filter.FailedAndUnresolvableNodes).length, 12);
  t.same(filter.NodeNames, null, 'full-node mode answers with Nodes');
});
