/**
 * The plugin guide's model loader example: `s3-loader`, priority 100, downloads `s3://bucket/prefix/`
 * (every object under the prefix, keeping its path below it) or `s3://bucket/key` into the folder the
 * service gives it, and removes that folder on unload. Credentials come from the AWS SDK's default
 * chain ($AWS_ACCESS_KEY_ID…, web identity, instance role). The built-in `s3` loader (priority 50)
 * adds a size budget, parallel downloads and explicit credentials; enabled, this one runs first.
 *
 * Load it with `plugins: [neuronetes:examples/s3-loader]` and enable it under
 * `model-loader-plugins:`; the shipped config loads it disabled.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as S3Sdk from '@aws-sdk/client-s3';
import { Type } from 'typebox';
import { definePlugin, registerPlugin } from 'neuronetes';

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (m === null) throw new Error(`not an s3:// URI: ${JSON.stringify(uri)}`);
  return { bucket: m[1] as string, key: m[2] as string };
}

/** `name` under `folder`; a key such as `../../etc/passwd` must not write outside it. */
function fileUnder(folder: string, name: string): string {
  const base = resolve(folder);
  const path = resolve(base, name);
  if (!path.startsWith(base + sep)) throw new Error(`object key ${JSON.stringify(name)} leaves the model folder`);
  return path;
}

export const s3Loader = definePlugin({
  type: 'model-loader',
  name: 's3-loader',
  priority: 100,
  // Model weights take minutes to download, not the guide's 5s.
  defaults: { timeout: '30m' },
  config: Type.Object(
    {
      endpoint: Type.String({ default: '', description: 'an S3-compatible store (MinIO…); empty: AWS' }),
      region: Type.String({ minLength: 1, default: 'us-east-1' }),
      forcePathStyle: Type.Boolean({ default: false, description: 'bucket in the path, as MinIO needs' }),
    },
    { additionalProperties: false },
  ),
  create: (config) => {
    // The AWS SDK takes about a second to import: paid at the first load, not at every start.
    let made: Promise<{ sdk: typeof S3Sdk; client: S3Sdk.S3Client }> | undefined;
    const s3 = (): Promise<{ sdk: typeof S3Sdk; client: S3Sdk.S3Client }> =>
      (made ??= import('@aws-sdk/client-s3').then((sdk) => ({
        sdk,
        client: new sdk.S3Client({
          region: config.region,
          forcePathStyle: config.forcePathStyle,
          ...(config.endpoint !== '' ? { endpoint: config.endpoint } : {}),
        }),
      })));
    return {
      canLoad: (_ctx, model) => model.spec.weightsURI.startsWith('s3://'),

      async load(ctx, model) {
        const { sdk, client } = await s3();
        const { bucket, key } = parseS3Uri(model.spec.weightsURI);
        const prefix = key === '' || key.endsWith('/');
        const keys: string[] = [];
        if (prefix) {
          let token: string | undefined;
          do {
            const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }), {
              abortSignal: ctx.signal,
            });
            for (const o of page.Contents ?? []) if (o.Key !== undefined && !o.Key.endsWith('/')) keys.push(o.Key);
            token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
          } while (token !== undefined);
          if (keys.length === 0) throw new Error(`no objects under ${model.spec.weightsURI}`);
        } else {
          keys.push(key);
        }
        for (const k of keys) {
          const path = fileUnder(ctx.cachePath, prefix ? k.slice(key.length) : k.slice(k.lastIndexOf('/') + 1));
          const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: k }), { abortSignal: ctx.signal });
          await mkdir(dirname(path), { recursive: true });
          await pipeline(object.Body as Readable, createWriteStream(path), { signal: ctx.signal });
        }
      },

      async unload(ctx) {
        await rm(ctx.cachePath, { recursive: true, force: true });
      },
    };
  },
});

registerPlugin(s3Loader);
