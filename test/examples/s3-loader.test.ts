/**
 * The guide's s3-loader example against a real S3-compatible server (s3rver) on loopback: through the
 * kit, then loaded by the service with `plugins:` and chosen before the built-in `s3` loader.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import t, { type Test } from 'tap';
import { model, runLoader } from 'neuronetes/testing';
import { s3Loader } from '../../extenders/examples/s3-loader.ts';
import { buildTestApp, tempDir } from '../guardrails/harness.ts';

const FILES: Record<string, string> = {
  'config.json': '{"model_type":"llama"}',
  'tokenizer/tokenizer.json': '{"vocab":{}}',
  'model.safetensors': 'weights'.repeat(1000),
};
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

/** s3rver with a `models` bucket; the SDK's default chain finds the credentials in the environment. */
async function startS3(t: Test): Promise<string> {
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: await tempDir(t) });
  const { port } = await server.run();
  t.teardown(() => server.close());
  const endpoint = `http://127.0.0.1:${port}`;
  const saved = Object.fromEntries(Object.keys(CREDENTIALS).map((k) => [k, process.env[k]]));
  Object.assign(process.env, CREDENTIALS);
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  });
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  t.teardown(() => client.destroy());
  await client.send(new CreateBucketCommand({ Bucket: 'models' }));
  for (const [key, body] of Object.entries(FILES)) await client.send(new PutObjectCommand({ Bucket: 'models', Key: `llama/${key}`, Body: body }));
  return endpoint;
}

t.test('canLoad, load a prefix or one object, unload', async (t) => {
  const endpoint = await startS3(t);
  const config = { endpoint, forcePathStyle: true };
  const llama = model({ name: 'llama', weightsURI: 's3://models/llama/' });
  t.equal(await runLoader(s3Loader, { model: llama, op: 'canLoad', config }), true);
  t.equal(await runLoader(s3Loader, { model: model({ name: 'hf' }), op: 'canLoad', config }), false, 'an hf:// model is for another loader');

  const cachePath = join(await tempDir(t), 'llama');
  await runLoader(s3Loader, { model: llama, op: 'load', cachePath, config });
  for (const [key, body] of Object.entries(FILES)) t.equal(await readFile(join(cachePath, key), 'utf8'), body, `${key} arrived`);

  const one = join(await tempDir(t), 'one');
  await runLoader(s3Loader, { model: model({ name: 'one', weightsURI: 's3://models/llama/tokenizer/tokenizer.json' }), op: 'load', cachePath: one, config });
  t.same(await readdir(one), ['tokenizer.json'], 'one object lands under its own name');

  await runLoader(s3Loader, { model: llama, op: 'unload', cachePath, config });
  await t.rejects(readdir(cachePath), { code: 'ENOENT' });
  await t.rejects(
    runLoader(s3Loader, { model: model({ name: 'none', weightsURI: 's3://models/nothing/' }), op: 'load', cachePath: join(one, 'x'), config }),
    /no objects under s3:\/\/models\/nothing\//,
  );
});

t.test('a config the schema does not allow is refused as the service refuses it', async (t) => {
  await t.rejects(runLoader(s3Loader, { model: model({ name: 'm' }), op: 'canLoad', config: { forcePathStyle: 'yes' } }), {
    name: 'ConfigError',
    message: /model-loader-plugins "s3-loader": config\.forcePathStyle is "yes"; it must be boolean/,
  });
});

t.test('loaded through plugins:, it loads before the built-in s3 loader', async (t) => {
  const endpoint = await startS3(t);
  const app = await buildTestApp(t, {
    cluster:
      "apiVersion: neuronetes.io/v1alpha1\nkind: Model\nmetadata: { name: llama, namespace: agents }\nspec: { weightsURI: 's3://models/llama/', size: 1Gi }\n",
    config: `plugins: [neuronetes:examples/s3-loader]\nmodel-loader-plugins:\n  - { name: s3-loader, config: { endpoint: '${endpoint}', forcePathStyle: true } }`,
    agent: {},
  });
  const res = await app.inject({ method: 'POST', url: '/models/load', payload: { name: 'llama', namespace: 'agents' } });
  t.equal(res.statusCode, 200, res.body);
  t.equal(res.json<{ loader: string }>().loader, 's3-loader', 'priority 100 runs before the built-in s3 (50)');
  t.equal(await readFile(join(app.neuronetes.models?.cache.dir as string, 'llama', 'config.json'), 'utf8'), FILES['config.json']);
});
