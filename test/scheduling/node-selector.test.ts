import t from 'tap';
import type { Node } from '../../src/api/kubernetes.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { nodeSelectorPlugin } from '../../extenders/builtin/scheduler/node-selector.ts';
import { agentPool, node, pod, schedulerContext, verdict, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

const plugin = schedulerPlugin(nodeSelectorPlugin);
const selecting = (nodeSelector: Record<string, string>): AgentPool => agentPool('p', { scheduling: { nodeSelector } });
const cc = { 'neuronetes.io/confidential-compute': 'true' };

const cases: { name: string; pool?: AgentPool; node: Node; passed: boolean; reason?: string }[] = [
  { name: 'a pod of no pool passes', node: node('bare'), passed: true },
  { name: 'a pool without a selector passes', pool: agentPool('plain'), node: node('bare'), passed: true },
  { name: 'an empty selector passes', pool: selecting({}), node: node('bare'), passed: true },
  { name: 'matching labels', pool: selecting(cc), node: node('n', { labels: cc }), passed: true },
  { name: 'all entries must match', pool: selecting({ ...cc, zone: 'a' }), node: node('n', { labels: { ...cc, zone: 'a' } }), passed: true },
  {
    name: 'a node with no labels',
    pool: selecting(cc),
    node: { metadata: { name: 'bare' } },
    passed: false,
    reason: "pool's nodeSelector wants neuronetes.io/confidential-compute=true; node has no neuronetes.io/confidential-compute label",
  },
  {
    name: 'a different value',
    pool: selecting(cc),
    node: node('n', { labels: { 'neuronetes.io/confidential-compute': 'false' } }),
    passed: false,
    reason: "pool's nodeSelector wants neuronetes.io/confidential-compute=true; node has neuronetes.io/confidential-compute=false",
  },
  { name: 'values are compared exactly', pool: selecting(cc), node: node('n', { labels: { 'neuronetes.io/confidential-compute': 'True' } }), passed: false },
  {
    name: 'one entry missing is enough',
    pool: selecting({ ...cc, zone: 'a' }),
    node: node('n', { labels: cc }),
    passed: false,
    reason: "pool's nodeSelector wants zone=a; node has no zone label",
  },
];

t.test('filter', async (t) => {
  for (const c of cases) {
    const { ctx } = schedulerContext({ nodes: [c.node], pools: c.pool === undefined ? [] : [c.pool] });
    const v = verdict(plugin.filter(ctx, pod('p'), c.node, c.pool));
    t.equal(v.passed, c.passed, `${c.name}: passed`);
    if (!c.passed) t.equal(v.unresolvable, true, `${c.name}: unresolvable`);
    if (c.reason !== undefined) t.equal(v.reason, c.reason, `${c.name}: reason`);
  }
});

t.test('full-node mode judges the labels sent, not the cached ones', async (t) => {
  const p = selecting(cc);
  const { ctx } = schedulerContext({ nodes: [node('n')], pools: [p] });
  t.equal(plugin.filter(ctx, pod('p'), node('n', { labels: cc }), p), true);
});
