/**
 * Built-in `https` loader: streams model files over HTTPS with undici straight to disk.
 *
 * - `https://host/path/model.gguf` downloads that one file.
 * - `https://host/path/` (a trailing slash) first reads `<uri><manifest>` (default `manifest.json`),
 *   `{"files": [{"path": "…", "size"?: n, "sha256"?: "…"}]}`, then downloads each file, checking
 *   size and checksum where given.
 *
 * Config: `allowedHosts` (host names, or `*.example.com` for subdomains; unset: any host), `allowHttp`
 * (accept plain `http://`, for in-cluster mirrors; default false), `manifest`,
 * `headers` (e.g. an Authorization header), `connections` (per origin, default 4),
 * `connectTimeout`/`headersTimeout`/`bodyTimeout` (durations; defaults 10s/30s/60s — the body timeout
 * is the longest silence tolerated between two chunks). The whole load is bounded by the plugin's
 * `timeout`, through the call's AbortSignal.
 *
 * Where it may fetch from is HostPolicy's (loopback and link-local only when listed by name); redirects
 * (at most 5) are followed one by one, each checked by it. The files together may not pass the
 * Model's `spec.size`, nor a manifest 1 MiB.
 */
import { rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { Agent, request, type Dispatcher } from 'undici';
import { parseDuration, type Model, type ModelLoader, type ModelLoaderContext, type PluginContext } from '../../../src/index.ts';
import { configReader } from '../plugin-config.ts';
import { ByteBudget } from '../../../src/models/model-size.ts';
import { fileUnder, writeFile } from './download.ts';
import { HostPolicy } from './host-policy.ts';

const DurationString = Type.String({ minLength: 1 });
const HttpsConfig = Type.Object({
  allowedHosts: Type.Optional(Type.Array(Type.String({ minLength: 1, pattern: '^(\\*\\.)?[^*/:]+$|^\\[?[0-9a-fA-F:.]+\\]?$' }))),
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

const MAX_REDIRECTS = 5;
const MAX_MANIFEST_BYTES = 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const readConfig = configReader('https', HttpsConfig);

interface Fetcher {
  readonly dispatcher: Dispatcher;
  readonly policy: HostPolicy;
  readonly headers: Record<string, string>;
}
const fetchers = new WeakMap<object, Fetcher>();

/** One connection pool and host policy per config: a reload gets new ones. */
function fetcherFor(config: ReturnType<typeof readConfig>): Fetcher {
  let f = fetchers.get(config);
  if (f === undefined) {
    const policy = new HostPolicy(config.allowedHosts, config.allowHttp === true);
    const dispatcher = new Agent({
      connections: config.connections ?? 4,
      connectTimeout: parseDuration(config.connectTimeout ?? '10s'),
      headersTimeout: parseDuration(config.headersTimeout ?? '30s'),
      bodyTimeout: parseDuration(config.bodyTimeout ?? '60s'),
      connect: { lookup: policy.lookup },
    });
    fetchers.set(config, (f = { dispatcher, policy, headers: config.headers ?? {} }));
  }
  return f;
}

interface Expected {
  size?: number;
  sha256?: string;
}

/**
 * GET `url`, following redirects one hop at a time, each hop checked by the host policy. The
 * configured headers (credentials) go to `url`'s origin only, as browsers and curl drop
 * Authorization on a redirect elsewhere (a CDN's signed URL needs none).
 */
async function get(url: URL, fetcher: Fetcher, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  let current = url;
  fetcher.policy.check(current);
  for (let hops = 0; ; hops++) {
    const headers = current.origin === url.origin ? fetcher.headers : {};
    const response = await request(current, { method: 'GET', dispatcher: fetcher.dispatcher, headers, signal });
    if (response.statusCode === 200) return response;
    await response.body.dump();
    const location = response.headers['location'];
    if (!REDIRECTS.has(response.statusCode) || typeof location !== 'string') throw new Error(`GET ${current.href}: HTTP ${response.statusCode}`);
    if (hops === MAX_REDIRECTS) throw new Error(`GET ${url.href}: more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, current);
    fetcher.policy.check(next, current);
    current = next;
  }
}

/** A response body as JSON, refusing one longer than `limit` bytes. */
async function boundedJson(body: AsyncIterable<Uint8Array>, url: URL, limit: number): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > limit) throw new Error(`${url.href}: a manifest larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e: unknown) {
    throw new Error(`${url.href}: not JSON: ${(e as Error).message}`, { cause: e });
  }
}

async function download(url: URL, path: string, fetcher: Fetcher, signal: AbortSignal, budget: ByteBudget, expected: Expected): Promise<void> {
  const { body, headers: responseHeaders } = await get(url, fetcher, signal);
  const length = Number(responseHeaders['content-length']);
  const written = await writeFile(body, path, { signal, budget, expectedBytes: expected.size ?? (Number.isInteger(length) ? length : undefined) });
  if (expected.sha256 !== undefined && written.sha256 !== expected.sha256.toLowerCase()) {
    throw new Error(`${url.href}: sha256 ${written.sha256} does not match the manifest's ${expected.sha256}`);
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
    const fetcher = fetcherFor(config);
    const budget = new ByteBudget(model);
    const uri = new URL(model.spec.weightsURI);
    if (!uri.pathname.endsWith('/')) {
      const file = decodeURIComponent(posix.basename(uri.pathname));
      await download(uri, fileUnder(ctx.cachePath, file), fetcher, ctx.signal, budget, {});
      return;
    }
    const manifestUrl = new URL(config.manifest ?? 'manifest.json', uri);
    const manifest = await boundedJson((await get(manifestUrl, fetcher, ctx.signal)).body, manifestUrl, MAX_MANIFEST_BYTES);
    if (!checkManifest.Check(manifest)) {
      const first = [...checkManifest.Errors(manifest)][0];
      throw new Error(`${manifestUrl.href}: not a model manifest: ${first?.instancePath || '(top level)'} ${first?.message ?? ''}`.trim());
    }
    budget.reserve(manifest.files.reduce((sum, f) => sum + (f.size ?? 0), 0));
    for (const f of manifest.files) {
      const url = new URL(f.path.split('/').map(encodeURIComponent).join('/'), uri);
      await download(url, fileUnder(ctx.cachePath, f.path), fetcher, ctx.signal, budget, {
        ...(f.size !== undefined ? { size: f.size } : {}),
        ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
      });
    }
  }

  async unload(ctx: ModelLoaderContext): Promise<void> {
    await rm(ctx.cachePath, { recursive: true, force: true });
  }
}
