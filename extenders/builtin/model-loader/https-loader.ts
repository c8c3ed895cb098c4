/**
 * Built-in `https` loader: streams model files over HTTPS with undici straight to disk.
 *
 * - `https://host/path/model.gguf` downloads that one file.
 * - `https://host/path/` (a trailing slash) first reads `<uri><manifest>` (default `manifest.json`),
 *   `{"files": [{"path": "…", "size"?: n, "sha256"?: "…"}]}`, then downloads each file, checking
 *   size and checksum where given.
 *
 * Config: `allowHttp` (accept plain `http://`, for in-cluster mirrors; default false), `manifest`,
 * `headers` (e.g. an Authorization header), `connections` (per origin, default 4),
 * `connectTimeout`/`headersTimeout`/`bodyTimeout` (durations; defaults 10s/30s/60s — the body timeout
 * is the longest silence tolerated between two chunks). The whole load is bounded by the plugin's
 * `timeout`, through the call's AbortSignal.
 */
import { rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { parseDuration, type Model, type ModelLoader, type ModelLoaderContext, type PluginContext } from '../../../src/index.ts';
import { configReader } from '../plugin-config.ts';
import { fileUnder, writeFile } from './download.ts';

const DurationString = Type.String({ minLength: 1 });
const HttpsConfig = Type.Object({
  allowHttp: Type.Optional(Type.Boolean()),
  manifest: Type.Optional(Type.String({ minLength: 1 })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  connections: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  connectTimeout: Type.Optional(DurationString),
  headersTimeout: Type.Optional(DurationString),
  bodyTimeout: Type.Optional(DurationString),
});

const ManifestSchema = Type.Object({
  files: Type.Array(
    Type.Object({
      path: Type.String({ minLength: 1 }),
      size: Type.Optional(Type.Integer({ minimum: 0 })),
      sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
    }),
    { minItems: 1 },
  ),
});
const checkManifest = Compile(ManifestSchema);

const readConfig = configReader('https', HttpsConfig);
const dispatchers = new WeakMap<object, Dispatcher>();

function dispatcherFor(config: ReturnType<typeof readConfig>): Dispatcher {
  let d = dispatchers.get(config);
  if (d === undefined) {
    d = new Agent({
      connections: config.connections ?? 4,
      connectTimeout: parseDuration(config.connectTimeout ?? '10s'),
      headersTimeout: parseDuration(config.headersTimeout ?? '30s'),
      bodyTimeout: parseDuration(config.bodyTimeout ?? '60s'),
    }).compose(interceptors.redirect({ maxRedirections: 5 }));
    dispatchers.set(config, d);
  }
  return d;
}

interface Expected {
  size?: number;
  sha256?: string;
}

async function get(url: string, dispatcher: Dispatcher, headers: Record<string, string>, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  const response = await request(url, { method: 'GET', dispatcher, headers, signal });
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new Error(`GET ${url}: HTTP ${response.statusCode}`);
  }
  return response;
}

async function download(url: string, path: string, dispatcher: Dispatcher, headers: Record<string, string>, signal: AbortSignal, expected: Expected): Promise<void> {
  const { body, headers: responseHeaders } = await get(url, dispatcher, headers, signal);
  const length = Number(responseHeaders['content-length']);
  const written = await writeFile(body, path, signal, expected.size ?? (Number.isInteger(length) ? length : undefined));
  if (expected.sha256 !== undefined && written.sha256 !== expected.sha256.toLowerCase()) {
    throw new Error(`${url}: sha256 ${written.sha256} does not match the manifest's ${expected.sha256}`);
  }
}

export class HttpsModelLoader implements ModelLoader {
  name(): string {
    return 'https';
  }

  priority(): number {
    return 50;
  }

  canLoad(ctx: PluginContext, model: Model): boolean {
    const uri = model.spec.weightsURI;
    return uri.startsWith('https://') || (uri.startsWith('http://') && readConfig(ctx.config).allowHttp === true);
  }

  async load(ctx: ModelLoaderContext, model: Model): Promise<void> {
    const config = readConfig(ctx.config);
    const dispatcher = dispatcherFor(config);
    const headers = config.headers ?? {};
    const uri = new URL(model.spec.weightsURI);
    if (!uri.pathname.endsWith('/')) {
      const file = decodeURIComponent(posix.basename(uri.pathname));
      await download(uri.href, fileUnder(ctx.cachePath, file), dispatcher, headers, ctx.signal, {});
      return;
    }
    const manifestUrl = new URL(config.manifest ?? 'manifest.json', uri).href;
    const manifest: unknown = await (await get(manifestUrl, dispatcher, headers, ctx.signal)).body.json();
    if (!checkManifest.Check(manifest)) {
      const first = [...checkManifest.Errors(manifest)][0];
      throw new Error(`${manifestUrl}: not a model manifest: ${first?.instancePath || '(top level)'} ${first?.message ?? ''}`.trim());
    }
    for (const f of manifest.files) {
      const url = new URL(f.path.split('/').map(encodeURIComponent).join('/'), uri).href;
      await download(url, fileUnder(ctx.cachePath, f.path), dispatcher, headers, ctx.signal, {
        ...(f.size !== undefined ? { size: f.size } : {}),
        ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
      });
    }
  }

  async unload(ctx: ModelLoaderContext): Promise<void> {
    await rm(ctx.cachePath, { recursive: true, force: true });
  }
}
