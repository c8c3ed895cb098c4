import t from 'tap';
import type { Pod } from '../../src/api/kubernetes.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { poolSpreadPlugin } from '../../extenders/builtin/scheduler/pool-spread.ts';
import { agentPool, node, pod, schedulerContext, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

const plugin = schedulerPlugin(poolSpreadPlugin);
const zoned = (name: string, zone?: string) => node(name, { labels: zone === undefined ? {} : { 'topology.kubernetes.io/zone': zone } });
const nodes = [zoned('n1', 'a'), zoned('n2', 'a'), zoned('n3', 'b'), zoned('n4')];
const web = agentPool('web');
const fresh = agentPool('fresh');
const replica = (name: string, at: string, extra: { namespace?: string; phase?: string; pool?: string } = {}): Pod =>
  pod(name, { node: at, pool: extra.pool ?? 'web', ...extra });

const pods = [
  replica('web-0', 'n1'),
  replica('web-1', 'n1'),
  replica('web-2', 'n3'),
  replica('web-gone', 'n2', { phase: 'Failed' }),
  replica('web-elsewhere', 'n2', { namespace: 'other' }),
  pod('web-pending', { pool: 'web' }),
  replica('api-0', 'n2', { pool: 'api' }),
];

const cases: { name: string; pool?: AgentPool; node: string; score: number }[] = [
  { name: 'no pool: neutral', node: 'n1', score: 50 },
  { name: 'a pool with nothing bound: 100 everywhere', pool: fresh, node: 'n1', score: 100 },
  { name: 'two of three replicas on the node and zone', pool: web, node: 'n1', score: 33 },
  { name: 'same zone, other node', pool: web, node: 'n2', score: 78 },
  { name: 'one replica on the node', pool: web, node: 'n3', score: 67 },
  { name: 'a node with no zone and no replica', pool: web, node: 'n4', score: 100 },
];

t.test('score (terminated, pending and other-namespace replicas are not counted)', async (t) => {
  for (const c of cases) {
    const { ctx } = schedulerContext({ nodes, pods, pools: [web, fresh, agentPool('api')] });
    const n = nodes.find((x) => x.metadata.name === c.node);
    if (n === undefined) throw new Error(c.node);
    t.equal(plugin.score(ctx, pod('p'), n, c.pool), c.score, c.name);
  }
});

t.test('a node without a zone is a zone of its own', async (t) => {
  const { ctx } = schedulerContext({ nodes, pods: [replica('web-0', 'n4'), replica('web-1', 'n3')], pools: [web] });
  t.equal(plugin.score(ctx, pod('p'), nodes[3] as (typeof nodes)[3], web), 50);
});

t.test('a pool the cluster does not list scores 100', async (t) => {
  const { ctx } = schedulerContext({ nodes, pods });
  t.equal(plugin.score(ctx, pod('p'), nodes[0] as (typeof nodes)[0], web), 100);
});
