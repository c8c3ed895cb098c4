/**
 * The node's model cache on disk: `<cacheDir>/<model>` per cached model. A model appears there only
 * whole: loaders write into a staging folder under `<cacheDir>/.staging/`, which is renamed into
 * place once the load succeeds (same filesystem, so the rename is atomic) and removed when it fails.
 * Staging left by a crash is removed at start-up.
 */
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

export const DEFAULT_CACHE_DIR = '/var/lib/neuronetes/models';
const STAGING = '.staging';

/**
 * Kubernetes object names (RFC 1123 subdomains: dot-separated labels of [a-z0-9-], each starting and
 * ending alphanumeric): one path segment, never `.`, `..`, a slash or an escape.
 */
export const MODEL_NAME_PATTERN = '^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const MODEL_NAME = new RegExp(MODEL_NAME_PATTERN);

export interface CachedModel {
  readonly name: string;
  readonly path: string;
  readonly files: number;
  readonly bytes: number;
  /** When the model landed in the cache (the folder's rename). */
  readonly cachedAt: string;
}

export class ModelCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** `<dir>/<model>`; throws RangeError for anything but a Kubernetes object name. */
  pathOf(model: string): string {
    if (!MODEL_NAME.test(model)) throw new RangeError(`invalid model name ${JSON.stringify(model)}: not a Kubernetes object name (RFC 1123 subdomain)`);
    return join(this.dir, model);
  }

  /** Creates the cache folder and clears staging a previous process left behind. */
  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await rm(join(this.dir, STAGING), { recursive: true, force: true });
    await mkdir(join(this.dir, STAGING));
  }

  async has(model: string): Promise<boolean> {
    return (await stat(this.pathOf(model)).catch(() => undefined))?.isDirectory() === true;
  }

  /** A fresh, empty staging folder for one load of `model`. */
  async stage(model: string): Promise<string> {
    this.pathOf(model);
    return mkdtemp(join(this.dir, STAGING, `${model}-`));
  }

  /** Moves a complete staging folder into place. */
  async commit(model: string, staged: string): Promise<void> {
    await rename(staged, this.pathOf(model));
  }

  async discard(staged: string): Promise<void> {
    await rm(staged, { recursive: true, force: true });
  }

  async remove(model: string): Promise<void> {
    await rm(this.pathOf(model), { recursive: true, force: true });
  }

  /** Staging folders present right now (a failed load must leave none). */
  async staging(): Promise<string[]> {
    return (await readdir(join(this.dir, STAGING)).catch(() => [])).sort();
  }

  /**
   * Regular files under `path` (a model folder or a staging folder) and their bytes, and the first
   * entry that is neither a file nor a folder (a symlink, a device…), if any.
   */
  async measure(path: string): Promise<{ files: number; bytes: number; other?: string }> {
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    let files = 0;
    let bytes = 0;
    let other: string | undefined;
    for (const e of entries) {
      if (e.isFile()) {
        files++;
        bytes += (await stat(join(e.parentPath, e.name))).size;
      } else if (!e.isDirectory()) other ??= relative(path, join(e.parentPath, e.name));
    }
    return { files, bytes, ...(other !== undefined ? { other } : {}) };
  }

  async describe(model: string): Promise<CachedModel> {
    const path = this.pathOf(model);
    const { files, bytes } = await this.measure(path);
    return { name: model, path, files, bytes, cachedAt: (await stat(path)).ctime.toISOString() };
  }

  /** Cached model names, sorted; folders that are not model names (staging, lost+found) are skipped. */
  async names(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && MODEL_NAME.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  async list(): Promise<CachedModel[]> {
    return Promise.all((await this.names()).map((n) => this.describe(n)));
  }
}
