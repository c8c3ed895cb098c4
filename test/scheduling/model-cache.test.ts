import t from 'tap';
import type { Node } from '../../src/api/kubernetes.ts';
import type { AgentClass, AgentPool, Model } from '../../src/api/neuronetes.ts';
import { modelCachePlugin } from '../../extenders/builtin/scheduler/model-cache.ts';
import { agentClass, agentPool, model, node, pod, schedulerContext, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

const plugin = schedulerPlugin(modelCachePlugin);
const cached = (list: string): Node => node('n', { annotations: { 'neuronetes.io/cached-models': list } });
const big = agentPool('big');
const small = agentPool('small');
const classes = [agentClass('big', 'llama-3-70b'), agentClass('small', 'mistral-7b')];
const models = [model('llama-3-70b', '140Gi'), model('mistral-7b', '16Gi')];

interface Case {
  name: string;
  pool?: AgentPool;
  node: Node;
  classes?: AgentClass[];
  models?: Model[];
  config?: Record<string, unknown>;
  score: number;
}

const cases: Case[] = [
  { name: 'no pool: neutral', node: cached('llama-3-70b'), score: 50 },
  { name: 'warm node', pool: big, node: cached('llama-3-70b'), score: 100 },
  { name: 'warm among several, spaces trimmed', pool: small, node: cached('llama-3-70b , mistral-7b,'), score: 100 },
  { name: 'cold 16Gi model: 90 × 32/(32+16)', pool: small, node: cached('llama-3-70b'), score: 60 },
  { name: 'cold 140Gi model scores far lower', pool: big, node: node('bare'), score: 17 },
  { name: 'a node with no annotation is cold', pool: small, node: node('bare'), score: 60 },
  { name: 'an empty annotation is cold', pool: small, node: cached(''), score: 60 },
  { name: 'configured reference size', pool: small, node: node('bare'), config: { referenceSize: '16Gi' }, score: 45 },
  { name: 'unknown AgentClass: neutral', pool: agentPool('orphan'), node: cached('orphan'), score: 50 },
  { name: 'AgentClass in another namespace is not ours', pool: small, node: node('bare'), classes: [agentClass('small', 'mistral-7b', 'other')], score: 50 },
  { name: 'model object unknown: warm still 100', pool: small, node: cached('mistral-7b'), models: [], score: 100 },
  { name: 'model object unknown, cold: half of a cold best', pool: small, node: node('bare'), models: [], score: 45 },
  {
    name: 'model with a malformed size: like unknown',
    pool: small,
    node: node('bare'),
    models: [{ ...model('mistral-7b', '16Gi'), spec: { weightsURI: 'hf://x', size: 'huge' } }],
    score: 45,
  },
];

t.test('score', async (t) => {
  for (const c of cases) {
    const { ctx } = schedulerContext({ nodes: [c.node], pools: [big, small], classes: c.classes ?? classes, models: c.models ?? models });
    t.equal(schedulerPlugin(modelCachePlugin, c.config).score(ctx, pod('p'), c.node, c.pool), c.score, c.name);
  }
});

t.test('the model is found through refs with namespaces', async (t) => {
  const pool = agentPool('x', { agentClassRef: { name: 'shared-class', namespace: 'platform' } });
  const cls: AgentClass = { metadata: { name: 'shared-class', namespace: 'platform' }, spec: { modelRef: { name: 'm', namespace: 'models' } } };
  const n = node('bare');
  const { ctx } = schedulerContext({ nodes: [n], pools: [pool], classes: [cls], models: [model('m', '32Gi', 'models')] });
  t.equal(plugin.score(ctx, pod('p'), n, pool), 45);
});

t.test('referenceSize must be a positive size; anything else is rejected, naming it', async (t) => {
  for (const good of ['32Gi', '0.5Gi', '100M', '7', '1.5k']) t.doesNotThrow(() => schedulerPlugin(modelCachePlugin, { referenceSize: good }), good);
  for (const bad of ['lots', '0', '0Gi', '-5Gi', '1e3', '1Gb', ' 1Gi', '', '500m']) {
    t.throws(
      () => schedulerPlugin(modelCachePlugin, { referenceSize: bad }),
      { message: `model-cache: config.referenceSize is ${JSON.stringify(bad)}; it must match pattern` },
      bad,
    );
  }
  t.throws(() => schedulerPlugin(modelCachePlugin, { referenceSize: 32 }), { message: 'model-cache: config.referenceSize is 32; it must be string' });
});
