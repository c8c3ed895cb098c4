/**
 * The S3 loaders against a real S3-compatible server (s3rver, from npm) on loopback: objects are
 * uploaded with the AWS SDK, then loaded through the agent's ModelLoader chain.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import t, { type Test } from 'tap';
import { parseS3Uri } from '../../extenders/builtin/model-loader/s3-loader.ts';
import { buildTestApp, tempDir } from '../guardrails/harness.ts';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** A small multi-file "model": config, tokenizer in a sub-folder, two weight shards. */
const MODEL_FILES: Record<string, Buffer> = {
  'config.json': Buffer.from('{"model_type":"llama","num_hidden_layers":2}'),
  'tokenizer/tokenizer.json': Buffer.from('{"version":"1.0","vocab":{"a":0,"b":1}}'),
  'model-00001-of-00002.safetensors': randomBytes(300 * 1024),
  'model-00002-of-00002.safetensors': randomBytes(200 * 1024 + 17),
};
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

async function startS3(t: Test): Promise<string> {
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: await tempDir(t) });
  const { port } = await server.run();
  t.teardown(() => server.close());
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
  t.teardown(() => client.destroy());
  await client.send(new CreateBucketCommand({ Bucket: 'models' }));
  for (const [key, body] of Object.entries(MODEL_FILES)) await client.send(new PutObjectCommand({ Bucket: 'models', Key: `llama-tiny/${key}`, Body: body }));
  await client.send(new PutObjectCommand({ Bucket: 'models', Key: 'gguf/phi-mini.Q4.gguf', Body: Buffer.from('GGUF bytes') }));
  return endpoint;
}

const CLUSTER = [
  'llama-tiny:s3://models/llama-tiny/',
  'phi-mini:s3://models/gguf/phi-mini.Q4.gguf',
  'empty:s3://models/nothing-here/',
  'nobucket:s3://no-such-bucket/x/',
]
  .map((entry) => {
    const [name, uri] = entry.split(/:(.*)/s) as [string, string];
    return `---\napiVersion: neuronetes.io/v1alpha1\nkind: Model\nmetadata: { name: ${name}, namespace: agents }\nspec: { weightsURI: '${uri}', size: 1Gi }\n`;
  })
  .join('');

/** The same objects under Models that declare less than they hold. */
const UNDERSIZED = [
  ['llama-small', 's3://models/llama-tiny/', '100Ki'],
  ['phi-small', 's3://models/gguf/phi-mini.Q4.gguf', '4'],
]
  .map(
    ([name, uri, size]) =>
      `---\napiVersion: neuronetes.io/v1alpha1\nkind: Model\nmetadata: { name: ${name}, namespace: agents }\nspec: { weightsURI: '${uri}', size: '${size}' }\n`,
  )
  .join('');

const load = (app: Awaited<ReturnType<typeof buildTestApp>>, name: string) =>
  app.inject({ method: 'POST', url: '/models/load', payload: { name, namespace: 'agents' } });

async function assertModelFiles(t: Test, dir: string): Promise<void> {
  for (const [key, body] of Object.entries(MODEL_FILES)) {
    t.equal(sha256(await readFile(join(dir, key))), sha256(body), `${key} arrived intact`);
  }
}

t.test('parses s3:// URIs', async (t) => {
  t.same(parseS3Uri('s3://bucket/a/b/'), { bucket: 'bucket', key: 'a/b/' });
  t.same(parseS3Uri('s3://bucket'), { bucket: 'bucket', key: '' });
  t.throws(() => parseS3Uri('s3:///key'), /not an s3:\/\/ URI/);
});

t.test('the built-in s3 loader downloads a prefix and a single object from a real S3-compatible server', async (t) => {
  const endpoint = await startS3(t);
  const app = await buildTestApp(t, {
    cluster: CLUSTER + UNDERSIZED,
    config: `model-loader-plugins:
  - name: s3
    timeout: 30s
    config: { endpoint: '${endpoint}', region: us-east-1, forcePathStyle: true, accessKeyId: S3RVER, secretAccessKey: S3RVER, concurrency: 2 }`,
    agent: {},
  });
  const dir = app.neuronetes.models?.cache.dir as string;
  const res = await load(app, 'llama-tiny');
  t.equal(res.statusCode, 200, res.body);
  const total = Object.values(MODEL_FILES).reduce((n, b) => n + b.length, 0);
  t.match(res.json(), { status: 'loaded', loader: 's3', files: 4, bytes: total });
  await assertModelFiles(t, join(dir, 'llama-tiny'));

  t.equal((await load(app, 'phi-mini')).statusCode, 200);
  t.equal(await readFile(join(dir, 'phi-mini', 'phi-mini.Q4.gguf'), 'utf8'), 'GGUF bytes', 'a single object lands under its base name');

  const empty = await load(app, 'empty');
  t.equal(empty.statusCode, 502);
  t.match(empty.json<{ message: string }>().message, /no objects under s3:\/\/models\/nothing-here\//);
  const noBucket = await load(app, 'nobucket');
  t.equal(noBucket.statusCode, 502);
  t.match(noBucket.json<{ message: string }>().message, /bucket/i);
  const small = await load(app, 'llama-small');
  t.equal(small.statusCode, 502);
  t.match(
    small.json<{ message: string }>().message,
    /agents\/llama-small is larger than its spec\.size 100Ki \(102400 bytes\): 5\d{5} bytes or more/,
    'the listed sizes are checked before any download',
  );
  const one = await load(app, 'phi-small');
  t.equal(one.statusCode, 502);
  t.match(
    one.json<{ message: string }>().message,
    /agents\/phi-small is larger than its spec\.size 4 \(4 bytes\): 10 bytes or more/,
    "an object's announced length is checked before its body",
  );
  t.same(await app.neuronetes.models?.cache.staging(), [], 'failed loads left no staging');
  t.same(await app.neuronetes.models?.cache.names(), ['llama-tiny', 'phi-mini']);
});

t.test('half a credential pair stops the start, naming the loader', async (t) => {
  await t.rejects(
    buildTestApp(t, { cluster: CLUSTER, config: 'model-loader-plugins:\n  - { name: s3, config: { accessKeyId: only-half } }', agent: {} }),
    /model-loader plugin "s3" .*could not be made: s3: accessKeyId and secretAccessKey go together/,
  );
  await t.rejects(
    buildTestApp(t, { config: 'model-loader-plugins:\n  - { name: s3, config: { concurrency: 0, bucket: x } }' }),
    /config\.bucket is not a setting of this plugin; known keys: endpoint, region.*config\.concurrency is 0; it must be >= 1/,
  );
});
