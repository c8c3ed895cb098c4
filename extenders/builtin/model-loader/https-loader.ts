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
import { posix } from 'node:path';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { Agent, request, type Dispatcher } from 'undici';
import { ByteBudget, definePlugin, DURATION_PATTERN, parseDuration, type Model, type ModelLoaderContext } from 'neuronetes';
import { fileUnder, LOADER_DEFAULTS, removeModelFolder, writeFile } from './download.ts';
import { HostPolicy } from './host-policy.ts';

const duration = (fallback: string) => Type.String({ pattern: DURATION_PATTERN, default: fallback });
const HttpsConfig = Type.Object(
  {
    // Unset: any host.
    allowedHosts: Type.Optional(Type.Array(Type.String({ minLength: 1, pattern: '^(\\*\\.)?[^*/:]+$|^\\[?[0-9a-fA-F:.]+\\]?$' }))),
    allowHttp: Type.Boolean({ default: false }),
    manifest: Type.String({ minLength: 1, default: 'manifest.json' }),
    headers: Type.Record(Type.String(), Type.String(), { default: {} }),
    connections: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
    connectTimeout: duration('10s'),
    headersTimeout: duration('30s'),
    bodyTimeout: duration('60s'),
  },
  { additionalProperties: false },
);

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

interface Fetcher {
  readonly dispatcher: Dispatcher;
  readonly policy: HostPolicy;
  readonly headers: Readonly<Record<string, string>>;
}

/** One connection pool and host policy per config: a reload that changes it gets new ones. */
function fetcherFor(config: Static<typeof HttpsConfig>): Fetcher {
  const policy = new HostPolicy(config.allowedHosts, config.allowHttp);
  const dispatcher = new Agent({
    connections: config.connections,
    connectTimeout: parseDuration(config.connectTimeout),
    headersTimeout: parseDuration(config.headersTimeout),
    bodyTimeout: parseDuration(config.bodyTimeout),
    connect: { lookup: policy.lookup },
  });
  return { dispatcher, policy, headers: config.headers };
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

/** One file, or every file a folder URI's manifest lists. */
async function fetchModel(ctx: ModelLoaderContext, model: Model, fetcher: Fetcher, manifest: string): Promise<void> {
  const budget = new ByteBudget(model);
  const uri = new URL(model.spec.weightsURI);
  if (!uri.pathname.endsWith('/')) {
    const file = decodeURIComponent(posix.basename(uri.pathname));
    await download(uri, fileUnder(ctx.cachePath, file), fetcher, ctx.signal, budget, {});
    return;
  }
  const manifestUrl = new URL(manifest, uri);
  const listing = await boundedJson((await get(manifestUrl, fetcher, ctx.signal)).body, manifestUrl, MAX_MANIFEST_BYTES);
  if (!checkManifest.Check(listing)) {
    const first = [...checkManifest.Errors(listing)][0];
    throw new Error(`${manifestUrl.href}: not a model manifest: ${first?.instancePath || '(top level)'} ${first?.message ?? ''}`.trim());
  }
  budget.reserve(listing.files.reduce((sum, f) => sum + (f.size ?? 0), 0));
  for (const f of listing.files) {
    const url = new URL(f.path.split('/').map(encodeURIComponent).join('/'), uri);
    await download(url, fileUnder(ctx.cachePath, f.path), fetcher, ctx.signal, budget, {
      ...(f.size !== undefined ? { size: f.size } : {}),
      ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
    });
  }
}

export const httpsLoader = definePlugin({
  type: 'model-loader',
  name: 'https',
  priority: 50,
  config: HttpsConfig,
  defaults: LOADER_DEFAULTS,
  create(config) {
    const fetcher = fetcherFor(config);
    return {
      canLoad: (_ctx, model: Model): boolean => {
        const uri = model.spec.weightsURI;
        return uri.startsWith('https://') || (uri.startsWith('http://') && config.allowHttp);
      },
      load: (ctx: ModelLoaderContext, model: Model): Promise<void> => fetchModel(ctx, model, fetcher, config.manifest),
      unload: removeModelFolder,
    };
  },
});
