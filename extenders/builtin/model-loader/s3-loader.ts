/**
 * Built-in `s3` loader: downloads `s3://bucket/prefix/` (every object under the prefix, keeping the
 * key's path below it) or `s3://bucket/key` (one object) with the AWS SDK v3, which signs, retries
 * and validates checksums.
 *
 * Config (each falls back to the environment): `endpoint` [$NEURONETES_S3_ENDPOINT, else the SDK's
 * own $AWS_ENDPOINT_URL_S3] for S3-compatible stores, `region` [$AWS_REGION, $AWS_DEFAULT_REGION,
 * else us-east-1], `forcePathStyle` [$NEURONETES_S3_FORCE_PATH_STYLE=true] (MinIO and most
 * S3-compatible stores need it), `accessKeyId`/`secretAccessKey`/`sessionToken` (else the SDK's
 * default chain: $AWS_ACCESS_KEY_ID…, web identity, instance role), `concurrency` (files downloaded
 * at once, default 4). The objects together may not pass the Model's `spec.size`.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { Type, type Static } from 'typebox';
import { ByteBudget, definePlugin, type Model, type ModelLoaderContext } from 'neuronetes';
import { fileUnder, LOADER_DEFAULTS, removeModelFolder, writeFile } from './download.ts';

// No defaults for the endpoint, region, path style and credentials: unset, they come from the environment.
const S3Config = Type.Object(
  {
    endpoint: Type.Optional(Type.String({ minLength: 1 })),
    region: Type.Optional(Type.String({ minLength: 1 })),
    forcePathStyle: Type.Optional(Type.Boolean()),
    accessKeyId: Type.Optional(Type.String({ minLength: 1 })),
    secretAccessKey: Type.Optional(Type.String({ minLength: 1 })),
    sessionToken: Type.Optional(Type.String({ minLength: 1 })),
    concurrency: Type.Integer({ minimum: 1, maximum: 32, default: 4 }),
  },
  { additionalProperties: false },
);
type S3Config = Static<typeof S3Config>;

export interface S3Location {
  readonly bucket: string;
  /** The key, or the prefix when it ends in `/` (or is empty: the whole bucket). */
  readonly key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (m === null) throw new Error(`not an s3:// URI: ${JSON.stringify(uri)}`);
  return { bucket: m[1] as string, key: m[2] as string };
}

function clientConfig(config: S3Config, env: NodeJS.ProcessEnv): S3ClientConfig {
  const endpoint = config.endpoint ?? env['NEURONETES_S3_ENDPOINT'];
  const { accessKeyId, secretAccessKey, sessionToken } = config;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) throw new Error('s3: accessKeyId and secretAccessKey go together');
  return {
    region: config.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    forcePathStyle: config.forcePathStyle ?? env['NEURONETES_S3_FORCE_PATH_STYLE'] === 'true',
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(accessKeyId !== undefined && secretAccessKey !== undefined
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) } }
      : {}),
  };
}

interface S3Object {
  readonly key: string;
  readonly size?: number | undefined;
}

/** Lists every object under the prefix, page by page. */
async function listObjects(sdk: typeof S3Sdk, client: S3Client, bucket: string, prefix: string, signal: AbortSignal): Promise<S3Object[]> {
  const { ListObjectsV2Command } = sdk;
  const keys: S3Object[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token !== undefined ? { ContinuationToken: token } : {}) }), {
      abortSignal: signal,
    });
    for (const o of page.Contents ?? []) if (o.Key !== undefined && !o.Key.endsWith('/')) keys.push({ key: o.Key, size: o.Size });
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

/** Downloads `files` with `concurrency` workers; the first failure stops the others. */
async function downloadAll(
  sdk: typeof S3Sdk,
  client: S3Client,
  bucket: string,
  files: readonly { key: string; path: string }[],
  concurrency: number,
  ctx: ModelLoaderContext,
  budget: ByteBudget,
): Promise<void> {
  // load() returns only once every download has stopped: nothing may still be writing when the
  // chain removes the staging folder.
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  let next = 0;
  const worker = async (): Promise<void> => {
    try {
      for (let f = files[next++]; f !== undefined; f = files[next++]) {
        const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: f.key }), { abortSignal: signal });
        if (object.Body === undefined) throw new Error(`s3://${bucket}/${f.key}: empty response`);
        await writeFile(object.Body as Readable, f.path, { signal, budget, expectedBytes: object.ContentLength });
      }
    } catch (e: unknown) {
      stop.abort(e);
      throw e;
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw stop.signal.reason ?? failed.reason;
}

export const s3Loader = definePlugin({
  type: 'model-loader',
  name: 's3',
  priority: 50,
  config: S3Config,
  defaults: LOADER_DEFAULTS,
  create(config) {
    const settings = clientConfig(config, process.env);
    // The AWS SDK takes about a second of CPU to import: paid on the first S3 load, not at every start.
    let connection: Promise<{ sdk: typeof S3Sdk; client: S3Client }> | undefined;
    const connect = (): Promise<{ sdk: typeof S3Sdk; client: S3Client }> =>
      (connection ??= import('@aws-sdk/client-s3').then((sdk) => ({ sdk, client: new sdk.S3Client(settings) })));
    return {
      canLoad: (_ctx, model: Model): boolean => model.spec.weightsURI.startsWith('s3://'),
      async load(ctx: ModelLoaderContext, model: Model): Promise<void> {
        const { sdk, client } = await connect();
        const { bucket, key } = parseS3Uri(model.spec.weightsURI);
        const budget = new ByteBudget(model);
        const whole = key === '' || key.endsWith('/');
        const objects = whole ? await listObjects(sdk, client, bucket, key, ctx.signal) : [{ key }];
        if (objects.length === 0) throw new Error(`no objects under ${model.spec.weightsURI}`);
        budget.reserve(objects.reduce((sum, o) => sum + (o.size ?? 0), 0));
        const files = objects.map((o) => ({ key: o.key, path: fileUnder(ctx.cachePath, whole ? o.key.slice(key.length) : posix.basename(o.key)) }));
        await downloadAll(sdk, client, bucket, files, config.concurrency, ctx, budget);
      },
      unload: removeModelFolder,
    };
  },
});
