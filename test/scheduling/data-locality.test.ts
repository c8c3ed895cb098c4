import t from 'tap';
import type { Pod } from '../../src/api/kubernetes.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { dataLocalityPlugin } from '../../extenders/builtin/scheduler/data-locality.ts';
import { agentPool, node, pod, schedulerContext, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

const plugin = schedulerPlugin(dataLocalityPlugin);
type Locality = { vectorStoreAffinity?: string[]; cacheAffinity?: string[]; antiAffinity?: string[] };
const pool = (dataLocality: Locality): AgentPool => agentPool('p', { scheduling: { dataLocality } });
const zoned = (name: string, zone?: string) => node(name, { labels: zone === undefined ? {} : { 'topology.kubernetes.io/zone': zone } });
const nodes = [zoned('n1', 'a'), zoned('n2', 'a'), zoned('n3', 'b'), zoned('n4')];
const store = (name: string, at: string, labels: Record<string, string>, extra: { namespace?: string; phase?: string } = {}): Pod =>
  pod(name, { node: at, labels, ...extra });
const pods = [
  store('index-0', 'n1', { 'neuronetes.io/vector-store': 'code-index' }),
  store('kv-0', 'n3', { 'neuronetes.io/cache': 'kv' }),
  store('trainer-0', 'n2', { 'app.kubernetes.io/name': 'batch-finetune' }),
  store('foreign-index', 'n3', { 'neuronetes.io/vector-store': 'code-index' }, { namespace: 'other' }),
  store('old-kv', 'n1', { 'neuronetes.io/cache': 'kv' }, { phase: 'Succeeded' }),
  pod('pending-index', { labels: { 'neuronetes.io/vector-store': 'docs' } }),
];

const cases: { name: string; pool?: AgentPool; node: string; config?: Record<string, unknown>; score: number }[] = [
  { name: 'no pool: neutral', node: 'n1', score: 50 },
  { name: 'no dataLocality: neutral', pool: agentPool('plain'), node: 'n1', score: 50 },
  { name: 'empty lists: neutral', pool: pool({ vectorStoreAffinity: [] }), node: 'n1', score: 50 },
  { name: 'vector store on the node', pool: pool({ vectorStoreAffinity: ['code-index'] }), node: 'n1', score: 100 },
  { name: 'vector store in the zone', pool: pool({ vectorStoreAffinity: ['code-index'] }), node: 'n2', score: 75 },
  { name: 'vector store elsewhere (only another namespace has one here)', pool: pool({ vectorStoreAffinity: ['code-index'] }), node: 'n3', score: 50 },
  { name: 'cache on the node', pool: pool({ cacheAffinity: ['kv'] }), node: 'n3', score: 100 },
  { name: 'terminated cache pods do not count', pool: pool({ cacheAffinity: ['kv'] }), node: 'n1', score: 50 },
  { name: 'unbound pods do not count', pool: pool({ vectorStoreAffinity: ['docs'] }), node: 'n4', score: 50 },
  { name: 'affinities average over the names', pool: pool({ vectorStoreAffinity: ['code-index'], cacheAffinity: ['kv'] }), node: 'n1', score: 75 },
  { name: 'a name nobody runs counts as far away', pool: pool({ vectorStoreAffinity: ['code-index', 'ghost'] }), node: 'n1', score: 75 },
  { name: 'anti-affinity on the node', pool: pool({ antiAffinity: ['batch-finetune'] }), node: 'n2', score: 0 },
  { name: 'anti-affinity in the zone', pool: pool({ antiAffinity: ['batch-finetune'] }), node: 'n1', score: 25 },
  { name: 'anti-affinity elsewhere', pool: pool({ antiAffinity: ['batch-finetune'] }), node: 'n3', score: 50 },
  { name: 'a node without a zone only matches itself', pool: pool({ antiAffinity: ['batch-finetune'] }), node: 'n4', score: 50 },
  { name: 'both pull', pool: pool({ vectorStoreAffinity: ['code-index'], antiAffinity: ['batch-finetune'] }), node: 'n1', score: 75 },
  {
    name: 'configured store labels',
    pool: pool({ vectorStoreAffinity: ['code-index'] }),
    node: 'n1',
    config: { storeLabels: ['app.kubernetes.io/name'] },
    score: 50,
  },
];

t.test('score', async (t) => {
  for (const c of cases) {
    const { ctx } = schedulerContext({ nodes, pods, pools: c.pool === undefined ? [] : [c.pool] });
    const n = nodes.find((x) => x.metadata.name === c.node);
    if (n === undefined) throw new Error(c.node);
    t.equal(schedulerPlugin(dataLocalityPlugin, c.config).score(ctx, pod('p'), n, c.pool), c.score, c.name);
  }
});

t.test('a node the cache does not know scores by its own zone', async (t) => {
  const p = pool({ vectorStoreAffinity: ['code-index'] });
  const { ctx } = schedulerContext({ nodes, pods, pools: [p] });
  t.equal(plugin.score(ctx, pod('p'), zoned('new', 'a'), p), 75);
  t.equal(plugin.score(ctx, pod('p'), node('bare'), p), 50);
});

t.test('storeLabels must be a list of label keys', async (t) => {
  t.throws(() => schedulerPlugin(dataLocalityPlugin, { storeLabels: 'neuronetes.io/vector-store' }), {
    message: 'data-locality: config.storeLabels is "neuronetes.io/vector-store"; it must be array',
  });
  t.throws(() => schedulerPlugin(dataLocalityPlugin, { storeLabels: [''] }), { message: /config\.storeLabels\[0\] is ""/ });
});
