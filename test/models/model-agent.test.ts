import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import type { Model } from '../../src/api/neuronetes.ts';
import type { CachedModelsPublisher } from '../../src/models/cached-models-publisher.ts';
import { getGlobalRegistry } from '../../src/plugins/registry.ts';
import type { ModelLoader, ModelLoaderContext, PluginContext } from '../../src/plugins/types.ts';
import { buildTestApp, tempDir } from '../guardrails/harness.ts';

/**
 * Loads `pvc://<behaviour>/<x>`: ok, throw, hang (ignores its signal, keeps writing, then
 * finishes), gate (waits until the test opens the gate). Counts calls and overlapping loads.
 */
class ScriptedLoader implements ModelLoader {
  loads = 0;
  unloads = 0;
  running = 0;
  maxRunning = 0;
  readonly gates = new Map<string, PromiseWithResolvers<undefined>>();
  readonly started = new Map<string, PromiseWithResolvers<undefined>>();
  name(): string {
    return 'pvc-test';
  }
  canLoad(ctx: PluginContext, model: Model): boolean {
    if (ctx.config['canLoad'] === 'throw') throw new Error('canLoad exploded');
    return model.spec.weightsURI.startsWith('pvc://');
  }
  gate(model: string): PromiseWithResolvers<undefined> {
    let g = this.gates.get(model);
    if (g === undefined) this.gates.set(model, (g = Promise.withResolvers<undefined>()));
    return g;
  }
  startedSignal(model: string): PromiseWithResolvers<undefined> {
    let g = this.started.get(model);
    if (g === undefined) this.started.set(model, (g = Promise.withResolvers<undefined>()));
    return g;
  }
  async load(ctx: ModelLoaderContext, model: Model): Promise<void> {
    this.loads++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.startedSignal(model.metadata.name).resolve(undefined);
    try {
      const behaviour = new URL(model.spec.weightsURI).host;
      await writeFile(join(ctx.cachePath, 'part-1.bin'), 'first half');
      if (behaviour === 'throw') throw new Error('the volume is not there');
      if (behaviour === 'link') await symlink('/etc/passwd', join(ctx.cachePath, 'tokenizer.json'));
      if (behaviour === 'hang') {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await writeFile(join(ctx.cachePath, 'part-2.bin'), 'written after the deadline');
        return;
      }
      if (behaviour === 'gate') await this.gate(model.metadata.name).promise;
      await writeFile(join(ctx.cachePath, 'part-2.bin'), 'second half');
    } finally {
      this.running--;
    }
  }
  unload(): void {
    this.unloads++;
  }
}

const loader = new ScriptedLoader();
getGlobalRegistry().register('model-loader', loader, 'test');

function model(name: string, uri: string, size = '1Gi'): string {
  return `---
apiVersion: neuronetes.io/v1alpha1
kind: Model
metadata: { name: ${name}, namespace: agents }
spec: { weightsURI: '${uri}', size: '${size}' }
`;
}

class RecordingPublisher implements CachedModelsPublisher {
  readonly calls: string[][] = [];
  failNext = false;
  async publish(node: string, models: readonly string[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('apiserver says no');
    }
    this.calls.push([node, ...models]);
  }
}

interface OpBody {
  status: string;
  loader: string | null;
  path: string;
  files?: number;
  bytes?: number;
}

const post = (app: Awaited<ReturnType<typeof buildTestApp>>, op: 'load' | 'unload', body: unknown) =>
  app.inject({ method: 'POST', url: `/models/${op}`, payload: body as Record<string, unknown> });

t.test('file:// models: load, list, load again, unload; the cached list is published each time', async (t) => {
  const seed = await tempDir(t);
  await mkdir(join(seed, 'phi', 'tokenizer'), { recursive: true });
  await writeFile(join(seed, 'phi', 'model.gguf'), 'weights!');
  await writeFile(join(seed, 'phi', 'tokenizer', 'vocab.json'), '{"a":1}');
  await writeFile(join(seed, 'single.gguf'), 'one file');
  const publisher = new RecordingPublisher();
  const app = await buildTestApp(t, {
    cluster: model('phi-3-mini', `${pathToFileURL(join(seed, 'phi')).href}/`) + model('single', pathToFileURL(join(seed, 'single.gguf')).href),
    config: `model-loader-plugins:\n  - { name: file, config: { roots: ['${seed}'] } }`,
    agent: { publisher },
  });
  const cacheDir = app.neuronetes.models?.cache.dir as string;
  t.same(publisher.calls, [['gpu-node-1']], 'the (empty) cache is published at start');

  const res = await post(app, 'load', { name: 'phi-3-mini', namespace: 'agents' });
  t.equal(res.statusCode, 200, res.body);
  const body = res.json<OpBody>();
  t.match(body, { status: 'loaded', loader: 'file', path: join(cacheDir, 'phi-3-mini'), files: 2, bytes: 15 });
  t.equal(await readFile(join(cacheDir, 'phi-3-mini', 'tokenizer', 'vocab.json'), 'utf8'), '{"a":1}');
  t.equal((await post(app, 'load', { name: 'single', namespace: 'agents' })).json<OpBody>().files, 1);
  t.equal(await readFile(join(cacheDir, 'single', 'single.gguf'), 'utf8'), 'one file');
  t.same(publisher.calls.at(-1), ['gpu-node-1', 'phi-3-mini', 'single']);

  const again = (await post(app, 'load', { name: 'phi-3-mini', namespace: 'agents' })).json<OpBody>();
  t.equal(again.status, 'already-cached');

  const list = (await app.inject({ url: '/models' })).json<{ node: string; cacheDir: string; models: { name: string; files: number; bytes: number }[] }>();
  t.equal(list.node, 'gpu-node-1');
  t.same(
    list.models.map((m) => [m.name, m.files, m.bytes]),
    [
      ['phi-3-mini', 2, 15],
      ['single', 1, 8],
    ],
  );

  const unload = (await post(app, 'unload', { name: 'phi-3-mini', namespace: 'agents' })).json<OpBody>();
  t.match(unload, { status: 'unloaded', loader: 'file' });
  t.same(await readdir(cacheDir), ['.staging', 'single']);
  t.same(publisher.calls.at(-1), ['gpu-node-1', 'single']);
  t.equal((await post(app, 'unload', { name: 'phi-3-mini', namespace: 'agents' })).json<OpBody>().status, 'not-cached');

  const trace = (await app.inject({ url: '/debug/plugins/model-loader/trace?pool=phi-3-mini' })).json<{
    decisions: { op: string; status: string; considered: { plugin: string; canLoad: boolean }[] }[];
  }>();
  t.same(
    trace.decisions.map((d) => `${d.op}:${d.status}`),
    ['unload:not-cached', 'unload:unloaded', 'load:already-cached', 'load:loaded'],
  );
  t.match(trace.decisions[3]?.considered.at(-1), { plugin: 'file', canLoad: true });
  const metrics = (await app.inject({ url: '/metrics' })).body;
  t.match(metrics, /neuronetes_model_operations_total\{op="load",loader="file",result="loaded"\} 2/);
  t.match(metrics, /neuronetes_model_cache_models 1/);
});

t.test('a failed or timed-out load leaves no partial folder behind', async (t) => {
  const app = await buildTestApp(t, {
    cluster: model('broken', 'pvc://throw/x') + model('stuck', 'pvc://hang/x'),
    config: 'model-loader-plugins:\n  - { name: pvc-test, timeout: 50ms }',
    agent: {},
  });
  const cache = app.neuronetes.models?.cache;
  const failed = await post(app, 'load', { name: 'broken', namespace: 'agents' });
  t.equal(failed.statusCode, 502);
  t.equal(failed.json<{ code: string }>().code, 'NN_MODEL_LOAD_FAILED');
  t.match(failed.json<{ message: string }>().message, /pvc-test failed to load agents\/broken from pvc:\/\/throw\/x: the volume is not there/);

  const stuck = await post(app, 'load', { name: 'stuck', namespace: 'agents' });
  t.equal(stuck.statusCode, 504);
  t.equal(stuck.json<{ code: string }>().code, 'NN_MODEL_LOAD_TIMEOUT');
  t.match(stuck.json<{ message: string }>().message, /timed out loading agents\/stuck/);

  t.same(await cache?.names(), [], 'nothing in the cache');
  t.same(await cache?.staging(), [], 'no staging left, even from the loader that kept writing after its deadline');
  const list = (await app.inject({ url: '/models' })).json<{ models: unknown[] }>();
  t.same(list.models, []);
});

t.test("any loader is held to the Model's spec.size: more is a failed load, nothing committed", async (t) => {
  // The scripted loader writes 21 bytes ("first half" + "second half").
  const app = await buildTestApp(t, { cluster: model('small', 'pvc://ok/s', '20') + model('fits', 'pvc://ok/f', '21'), agent: {} });
  const over = await post(app, 'load', { name: 'small', namespace: 'agents' });
  t.equal(over.statusCode, 502);
  t.match(
    over.json<{ message: string }>().message,
    /pvc-test failed to load agents\/small from pvc:\/\/ok\/s: agents\/small is larger than its spec\.size 20 \(20 bytes\): 21 bytes/,
  );
  t.same(await app.neuronetes.models?.cache.names(), []);
  t.same(await app.neuronetes.models?.cache.staging(), []);
  t.match((await post(app, 'load', { name: 'fits', namespace: 'agents' })).json(), { status: 'loaded', bytes: 21 });
});

t.test('any loader that leaves a symlink in its staging folder fails; nothing is committed', async (t) => {
  const app = await buildTestApp(t, { cluster: model('linked', 'pvc://link/x'), agent: {} });
  const res = await post(app, 'load', { name: 'linked', namespace: 'agents' });
  t.equal(res.statusCode, 502);
  t.match(
    res.json<{ message: string }>().message,
    /pvc-test failed to load agents\/linked from pvc:\/\/link\/x: the loader left "tokenizer\.json", which is not a regular file or folder/,
  );
  t.same(await app.neuronetes.models?.cache.names(), []);
  t.same(await app.neuronetes.models?.cache.staging(), []);
});

t.test('loads are serialised per model, not across models', async (t) => {
  const app = await buildTestApp(t, { cluster: model('alpha', 'pvc://gate/a') + model('beta', 'pvc://gate/b'), agent: {} });
  loader.loads = 0;
  loader.maxRunning = 0;
  const first = post(app, 'load', { name: 'alpha', namespace: 'agents' });
  const second = post(app, 'load', { name: 'alpha', namespace: 'agents' });
  const unload = post(app, 'unload', { name: 'alpha', namespace: 'agents' });
  await loader.startedSignal('alpha').promise;
  // beta loads while alpha is still held at its gate: a global lock would deadlock here.
  const beta = post(app, 'load', { name: 'beta', namespace: 'agents' });
  await loader.startedSignal('beta').promise;
  t.equal(loader.maxRunning, 2, 'two models load at once');
  loader.gate('beta').resolve(undefined);
  loader.gate('alpha').resolve(undefined);
  const [a1, a2, u, b] = await Promise.all([first, second, unload, beta]);
  t.equal(a1.json<OpBody>().status, 'loaded');
  t.equal(a2.json<OpBody>().status, 'already-cached', 'the second load waited for the first');
  t.equal(u.json<OpBody>().status, 'unloaded', 'the unload ran after both loads');
  t.equal(b.json<OpBody>().status, 'loaded');
  t.equal(loader.loads, 2, 'one load per model');
  t.same(await app.neuronetes.models?.cache.names(), ['beta']);
});

t.test('bad requests and models no loader can load', async (t) => {
  const app = await buildTestApp(t, {
    cluster: model('mistral-7b', 'hf://mistralai/Mistral-7B-Instruct-v0.3'),
    agent: {},
  });
  const malformed = await app.inject({ method: 'POST', url: '/models/load', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
  t.equal(malformed.statusCode, 400, 'malformed JSON');
  t.equal((await post(app, 'load', { name: 42 })).statusCode, 400, 'wrong type');
  t.equal((await post(app, 'load', { name: '../etc' })).statusCode, 400, 'not a Kubernetes name: never a path');

  const unknown = await post(app, 'load', { name: 'nope', namespace: 'agents' });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json<{ code: string }>().code, 'NN_UNKNOWN_MODEL');
  t.equal((await post(app, 'unload', { name: 'nope', namespace: 'agents' })).statusCode, 404, 'unload of a model neither known nor cached');
  t.equal((await post(app, 'load', { name: 'mistral-7b' })).statusCode, 404, "namespace defaults to 'default'");

  const noLoader = await post(app, 'load', { name: 'mistral-7b', namespace: 'agents' });
  t.equal(noLoader.statusCode, 422);
  t.equal(noLoader.json<{ code: string }>().code, 'NN_NO_MODEL_LOADER');
  t.match(
    noLoader.json<{ message: string }>().message,
    /no enabled model loader can load agents\/mistral-7b from hf:\/\/mistralai.*asked .*file: no.*https: no.*s3: no/,
  );
  t.same(await app.neuronetes.models?.cache.staging(), []);
});

t.test('canLoad failures follow the failurePolicy; shadow loaders are never chosen', async (t) => {
  const cluster = model('vol', 'pvc://ok/x');
  const ignore = await buildTestApp(t, { cluster, config: 'model-loader-plugins:\n  - { name: pvc-test, config: { canLoad: throw } }', agent: {} });
  const skipped = await post(ignore, 'load', { name: 'vol', namespace: 'agents' });
  t.equal(skipped.statusCode, 422);
  t.match(skipped.json<{ message: string }>().message, /pvc-test: error: canLoad exploded/);

  const fail = await buildTestApp(t, {
    cluster,
    config: 'model-loader-plugins:\n  - { name: pvc-test, failurePolicy: Fail, config: { canLoad: throw } }',
    agent: {},
  });
  const failed = await post(fail, 'load', { name: 'vol', namespace: 'agents' });
  t.equal(failed.statusCode, 500);
  t.match(failed.json<{ message: string }>().message, /model-loader plugin "pvc-test" failed: canLoad exploded/);

  const shadow = await buildTestApp(t, { cluster, config: 'model-loader-plugins:\n  - { name: pvc-test, mode: shadow }', agent: {} });
  const res = await post(shadow, 'load', { name: 'vol', namespace: 'agents' });
  t.equal(res.statusCode, 422);
  t.match(res.json<{ message: string }>().message, /pvc-test \(shadow\): yes/);
});

t.test('a publisher failure is counted, not fatal; leftover staging is cleared at start', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, '.staging', 'half-done-abc123'), { recursive: true });
  await writeFile(join(dir, '.staging', 'half-done-abc123', 'shard-0.bin'), 'partial');
  const publisher = new RecordingPublisher();
  const app = await buildTestApp(t, { cluster: model('vol', 'pvc://ok/x'), agent: { cacheDir: dir, publisher } });
  t.same(await readdir(join(dir, '.staging')), [], 'a crashed load is cleaned up at start');
  publisher.failNext = true;
  const res = await post(app, 'load', { name: 'vol', namespace: 'agents' });
  t.equal(res.statusCode, 200, 'the model is on disk even though publishing failed');
  t.match((await app.inject({ url: '/metrics' })).body, /neuronetes_model_cache_publish_failures_total 1/);
  await post(app, 'unload', { name: 'vol', namespace: 'agents' });
  t.same(publisher.calls.at(-1), ['gpu-node-1'], 'the next change publishes again');
  t.equal(loader.unloads > 0, true, "the loader's unload() ran before the folder was removed");
});

t.test('the serve app has no /models: only the agent does', async (t) => {
  const app = await buildTestApp(t);
  t.equal((await app.inject({ url: '/models' })).statusCode, 404);
  t.equal(app.neuronetes.models, undefined);
});
