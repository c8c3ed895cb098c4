/**
 * The plugin source and test `neuronetes plugin new` writes for each plugin type: a small plugin that
 * works, with a TypeBox config, and a test through `neuronetes/testing`, to be replaced by your own.
 * `NAME` and `IDENT` stand for the plugin's name and the identifier of its definition.
 */
import type { PluginType } from '../plugins/types.ts';

export interface PluginTemplate {
  /** One line for the README: what the generated plugin does. */
  readonly summary: string;
  readonly source: string;
  readonly test: string;
}

const header = (type: PluginType): string => `/**
 * NAME: a NeuroNetes ${type} plugin. Importing this module registers it; the service imports it when
 * its config lists this package under \`plugins:\`.
 */
`;

export const PLUGIN_TEMPLATES: Readonly<Record<PluginType, PluginTemplate>> = {
  scheduler: {
    summary: 'scores nodes whose label `example.com/preferred` is "true" 100, others 0 (the label is configurable)',
    source: `${header('scheduler')}import { definePlugin, registerPlugin } from 'neuronetes';
import { Type } from 'typebox';

export const IDENT = definePlugin({
  type: 'scheduler',
  name: 'NAME',
  config: Type.Object(
    {
      label: Type.String({ minLength: 1, default: 'example.com/preferred', description: 'nodes with this label set to "true" score 100' }),
    },
    { additionalProperties: false },
  ),
  create: (config) => ({
    score: (_ctx, _pod, node) => (node.metadata.labels?.[config.label] === 'true' ? 100 : 0),
  }),
});

registerPlugin(IDENT);
`,
    test: `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuNode, pod, runScore } from 'neuronetes/testing';
import { IDENT } from '../src/index.ts';

test('nodes with the label score 100, others 0', async () => {
  const nodes = [cpuNode({ name: 'labelled', labels: { 'example.com/preferred': 'true' } }), cpuNode({ name: 'plain' })];
  assert.deepEqual(await runScore(IDENT, { pod: pod({ name: 'p' }), nodes }), [
    { node: 'labelled', score: 100 },
    { node: 'plain', score: 0 },
  ]);
});
`,
  },
  autoscaler: {
    summary: 'asks for one replica per `perReplica` of a metric (default: 10 of queue-depth)',
    source: `${header('autoscaler')}import { definePlugin, registerPlugin } from 'neuronetes';
import { Type } from 'typebox';

export const IDENT = definePlugin({
  type: 'autoscaler',
  name: 'NAME',
  config: Type.Object(
    {
      metric: Type.String({ minLength: 1, default: 'queue-depth', description: 'the metric to scale on' }),
      perReplica: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'how much of the metric one replica handles' }),
    },
    { additionalProperties: false },
  ),
  create: (config) => ({
    getMetricNames: () => [config.metric],
    calculateReplicas: (ctx, _pool, metrics) => {
      const value = metrics[config.metric];
      // No value: keep the replicas there are rather than guess.
      return value === undefined ? ctx.currentReplicas : Math.ceil(value / config.perReplica);
    },
  }),
});

registerPlugin(IDENT);
`,
    test: `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentPool, runAutoscaler } from 'neuronetes/testing';
import { IDENT } from '../src/index.ts';

const pool = agentPool({ name: 'chat' });

test('one replica per 10 waiting requests, rounded up', async () => {
  assert.equal(await runAutoscaler(IDENT, { pool, metrics: { 'queue-depth': 35 } }), 4);
});

test('without the metric, the current replicas stay', async () => {
  assert.equal(await runAutoscaler(IDENT, { pool, metrics: {}, currentReplicas: 3 }), 3);
});
`,
  },
  'model-loader': {
    summary: 'copies `file://` models from under a root folder (default /models) into the node cache',
    source: `${header('model-loader')}import { cp, rm } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { definePlugin, registerPlugin } from 'neuronetes';
import { Type } from 'typebox';

export const IDENT = definePlugin({
  type: 'model-loader',
  name: 'NAME',
  config: Type.Object(
    {
      root: Type.String({ minLength: 1, default: '/models', description: 'the folder file:// models may come from' }),
    },
    { additionalProperties: false },
  ),
  create: (config) => {
    const root = resolve(config.root);
    /** The model's folder, or undefined when its URI is not a file:// path under root. */
    const folderOf = (uri: string): string | undefined => {
      if (!uri.startsWith('file://')) return undefined;
      try {
        const path = resolve(fileURLToPath(uri));
        return path.startsWith(root + sep) ? path : undefined;
      } catch {
        return undefined; // a file:// URI with a host, say
      }
    };
    return {
      canLoad: (_ctx, model) => folderOf(model.spec.weightsURI) !== undefined,
      load: async (ctx, model) => {
        const folder = folderOf(model.spec.weightsURI);
        if (folder === undefined) throw new Error(\`\${model.spec.weightsURI} is not a file:// path under \${root}\`);
        await cp(folder, ctx.cachePath, { recursive: true });
      },
      unload: async (ctx) => {
        await rm(ctx.cachePath, { recursive: true, force: true });
      },
    };
  },
});

registerPlugin(IDENT);
`,
    test: `import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { model, runLoader } from 'neuronetes/testing';
import { IDENT } from '../src/index.ts';

test('loads a file:// model from under its root, and no other', async () => {
  const root = await mkdtemp(join(tmpdir(), 'models-'));
  await mkdir(join(root, 'tiny'));
  await writeFile(join(root, 'tiny', 'weights.bin'), 'w');
  const tiny = model({ name: 'tiny', weightsURI: pathToFileURL(join(root, 'tiny')).href });
  const config = { root };
  assert.equal(await runLoader(IDENT, { model: tiny, op: 'canLoad', config }), true);
  assert.equal(await runLoader(IDENT, { model: model({ name: 'remote', weightsURI: 's3://bucket/remote' }), op: 'canLoad', config }), false);
  const cachePath = join(root, 'cache');
  await runLoader(IDENT, { model: tiny, op: 'load', cachePath, config });
  assert.equal(await readFile(join(cachePath, 'weights.bin'), 'utf8'), 'w');
});
`,
  },
  guardrail: {
    summary: 'blocks text that contains any of a list of words (default: "forbidden")',
    source: `${header('guardrail')}import { definePlugin, registerPlugin } from 'neuronetes';
import { Type } from 'typebox';

export const IDENT = definePlugin({
  type: 'guardrail',
  name: 'NAME',
  config: Type.Object(
    {
      words: Type.Array(Type.String({ minLength: 1 }), { default: ['forbidden'], description: 'block text containing any of these (any case)' }),
    },
    { additionalProperties: false },
  ),
  create: (config) => {
    const words = config.words.map((w) => w.toLowerCase());
    return {
      getType: () => 'keyword',
      check: (_ctx, request) => {
        const text = request.content.toLowerCase();
        const found = words.find((w) => text.includes(w));
        return found === undefined ? { passed: true, action: 'allow' } : { passed: false, action: 'block', reason: \`contains "\${found}"\` };
      },
    };
  },
});

registerPlugin(IDENT);
`,
    test: `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runGuardrail } from 'neuronetes/testing';
import { IDENT } from '../src/index.ts';

test('blocks a listed word in any case, lets the rest through', async () => {
  assert.deepEqual(await runGuardrail(IDENT, { request: { content: 'a Forbidden word' } }), { passed: false, action: 'block', reason: 'contains "forbidden"' });
  assert.deepEqual(await runGuardrail(IDENT, { request: { content: 'all fine' } }), { passed: true, action: 'allow' });
});
`,
  },
  'metrics-provider': {
    summary: 'answers fixed values per metric type from its config (a starting point for a real source)',
    source: `${header('metrics-provider')}import { definePlugin, registerPlugin } from 'neuronetes';
import { Type } from 'typebox';

export const IDENT = definePlugin({
  type: 'metrics-provider',
  name: 'NAME',
  config: Type.Object(
    {
      values: Type.Record(Type.String(), Type.Number({ minimum: 0 }), { default: {}, description: 'metric type → its value, for every pool' }),
    },
    { additionalProperties: false },
  ),
  create: (config) => ({
    listMetrics: () => Object.keys(config.values),
    // undefined, not 0, for a metric it has no value for: "no data" is not "idle".
    getMetric: (_ctx, _pool, metricType) => config.values[metricType],
  }),
});

registerPlugin(IDENT);
`,
    test: `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentPool, runMetrics } from 'neuronetes/testing';
import { IDENT } from '../src/index.ts';

test('answers the configured value of a metric', async () => {
  const value = await runMetrics(IDENT, { pool: agentPool({ name: 'chat' }), metric: 'queue-depth', config: { values: { 'queue-depth': 7 } } });
  assert.equal(value, 7);
});
`,
  },
};
