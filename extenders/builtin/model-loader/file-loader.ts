/**
 * Built-in `file` loader: copies a `file://` folder (or single file) on the node, e.g. a volume
 * seeded with weights, into the model cache.
 *
 * Only from below an allowed root: config `roots` (absolute folders; `[]` turns the loader off)
 * [$NEURONETES_FILE_ROOTS, colon-separated], default `/var/lib/neuronetes/seed`. A Model is written by whoever may create
 * Models, so the URI is refused when a path segment is `.` or `..` (also percent-encoded) or holds an
 * encoded slash, and every file is resolved to its real path, which must lie under the same root:
 * symlinks inside the root are copied as the files they point to, symlinks leading out of it, loops,
 * devices, sockets and pipes fail the load. The copy stops at the Model's `spec.size`.
 */
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { Type, type Static } from 'typebox';
import { ByteBudget, definePlugin, type Model, type ModelLoaderContext } from 'neuronetes';
import { fileUnder, isInside, LOADER_DEFAULTS, removeModelFolder, writeFile } from './download.ts';

export const DEFAULT_FILE_ROOT = '/var/lib/neuronetes/seed';

// No default for roots: unset, they come from the environment (read when the loader is made).
const FileConfig = Type.Object({ roots: Type.Optional(Type.Array(Type.String({ pattern: '^/' }))) }, { additionalProperties: false });

/** The configured roots, else $NEURONETES_FILE_ROOTS, else the default; each must be absolute. */
export function fileRoots(config: Static<typeof FileConfig>, env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = env['NEURONETES_FILE_ROOTS']?.split(':').filter((r) => r !== '');
  const roots = config.roots ?? fromEnv ?? [DEFAULT_FILE_ROOT];
  for (const r of roots) if (!isAbsolute(r)) throw new Error(`file: root ${JSON.stringify(r)} is not an absolute path`);
  return roots;
}

/**
 * The local path a `file://` URI names, refusing what could climb out of a root once decoded: `.` and
 * `..` segments (WHATWG URL parsing would silently fold `%2e%2e` away), encoded slashes, NUL, a
 * query or fragment, and any host but `localhost`.
 */
export function filePathOf(uri: string): string {
  const m = /^file:\/\/([^/]*)(\/[^?#]*)$/.exec(uri);
  if (m === null) throw new Error(`${JSON.stringify(uri)} is not a file:///absolute/path URI (no query or fragment)`);
  if (m[1] !== '' && m[1] !== 'localhost')
    throw new Error(`${JSON.stringify(uri)} names host ${JSON.stringify(m[1])}; file:// URIs are read on this node only`);
  const segments = (m[2] as string)
    .split('/')
    .filter((s) => s !== '')
    .map((raw) => {
      let s: string;
      try {
        s = decodeURIComponent(raw);
      } catch {
        throw new Error(`${JSON.stringify(uri)}: malformed percent-encoding in ${JSON.stringify(raw)}`);
      }
      if (s === '.' || s === '..' || /[/\\\0]/.test(s))
        throw new Error(`${JSON.stringify(uri)}: refusing path segment ${JSON.stringify(raw)} (it means ${JSON.stringify(s)})`);
      return s;
    });
  return `/${segments.join('/')}`;
}

interface PlannedFile {
  readonly source: string;
  /** Where it goes, relative to the model folder. */
  readonly rel: string;
  readonly size: number;
}

/** Every regular file under `dir` (real paths), each checked to stay inside `root`. */
async function planFolder(dir: string, rel: string, root: string, ancestors: Set<string>, signal: AbortSignal, out: PlannedFile[]): Promise<void> {
  for (const entry of await readdir(dir)) {
    signal.throwIfAborted();
    const path = join(dir, entry);
    const into = rel === '' ? entry : posix.join(rel, entry);
    const real = await realpath(path);
    if (!isInside(root, real)) throw new Error(`${path} leads to ${real}, outside the allowed root ${root}`);
    const info = await stat(real);
    if (info.isDirectory()) {
      if (ancestors.has(real)) throw new Error(`${path} loops back to ${real}`);
      ancestors.add(real);
      await planFolder(real, into, root, ancestors, signal, out);
      ancestors.delete(real);
    } else if (info.isFile()) out.push({ source: real, rel: into, size: info.size });
    else throw new Error(`${path} is neither a regular file nor a folder`);
  }
}

/** Copies the files of a `file://` URI under one of `roots` into the load's cache folder. */
async function copyFromRoots(ctx: ModelLoaderContext, model: Model, roots: readonly string[]): Promise<void> {
  const budget = new ByteBudget(model);
  const path = filePathOf(model.spec.weightsURI);
  const realRoots = (await Promise.all(roots.map((r) => realpath(r).catch(() => undefined)))).filter((r): r is string => r !== undefined);
  const real = await realpath(path).catch((e: unknown) => {
    throw new Error(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`, { cause: e });
  });
  const root = realRoots.find((r) => isInside(r, real));
  if (root === undefined) {
    const allowed = roots.length > 0 ? `the allowed roots (${roots.join(', ')})` : 'every allowed root: the file loader has none';
    throw new Error(`${path}${real !== path ? ` (${real})` : ''} is outside ${allowed}; set the file loader's config roots`);
  }
  const info = await stat(real);
  const files: PlannedFile[] = [];
  if (info.isDirectory()) await planFolder(real, '', root, new Set([real]), ctx.signal, files);
  else if (info.isFile()) files.push({ source: real, rel: posix.basename(path), size: info.size });
  else throw new Error(`${path} is neither a regular file nor a folder`);
  budget.reserve(files.reduce((sum, f) => sum + f.size, 0));
  for (const f of files) {
    await writeFile(createReadStream(f.source), fileUnder(ctx.cachePath, f.rel), { signal: ctx.signal, budget, expectedBytes: f.size });
  }
}

export const fileLoader = definePlugin({
  type: 'model-loader',
  name: 'file',
  priority: 50,
  config: FileConfig,
  defaults: LOADER_DEFAULTS,
  create(config) {
    const roots = fileRoots(config);
    return {
      canLoad: (_ctx, model: Model): boolean => model.spec.weightsURI.startsWith('file://'),
      load: (ctx: ModelLoaderContext, model: Model): Promise<void> => copyFromRoots(ctx, model, roots),
      unload: removeModelFolder,
    };
  },
});
