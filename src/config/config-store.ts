/**
 * Holds the config in force and its PluginSet, and swaps both atomically on reload. A reload that
 * fails (an empty file, bad YAML, schema errors, unknown plugins, a module that will not import)
 * keeps the last good config, logs why and counts it in neuronetes_config_reloads_total{result="failure"}.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { ServiceMetrics } from '../observability/metrics.ts';
import type { PluginModuleLoader } from '../plugins/module-loader.ts';
import { PluginSet } from '../plugins/plugin-set.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { isEmptyDocument, readConfig, resolveConfig } from './parse-config.ts';
import type { ServiceConfig } from './schema.ts';

export interface ActiveConfig {
  readonly config: ServiceConfig;
  readonly plugins: PluginSet;
  readonly loadedAt: string;
}

export interface ReloadResult {
  ok: boolean;
  error?: string;
}

export interface ConfigStoreOptions {
  registry: PluginRegistry;
  loader: PluginModuleLoader;
  metrics: ServiceMetrics;
  log: Logger;
  /** The config file or ConfigMap folder; absent means built-in defaults only. */
  path?: string;
  /** Module specifiers from NEURONETES_PLUGINS, loaded in addition to the config's `plugins:`. */
  extraModules?: readonly string[];
  /** Folder relative module paths are resolved against when there is no config file. */
  baseDir?: string;
}

export class ConfigStore {
  readonly #o: ConfigStoreOptions;
  #active: ActiveConfig | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Change events seen; a look at the file that a newer event overtook gives way to it. */
  #changes = 0;
  #reloading: Promise<ReloadResult> = Promise.resolve({ ok: true });
  #lastError: string | undefined;

  constructor(options: ConfigStoreOptions) {
    this.#o = options;
  }

  get current(): ActiveConfig {
    if (this.#active === undefined) throw new Error('config not loaded yet');
    return this.#active;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Validates and applies a config; throws (leaving the current one in force) when it is bad. */
  async apply(config: ServiceConfig): Promise<void> {
    const baseDir = this.#o.path !== undefined ? dirname(this.#o.path) : (this.#o.baseDir ?? process.cwd());
    await this.#o.loader.load(config.modules, baseDir);
    const plugins = PluginSet.build(this.#o.registry, config, this.#o.log);
    this.#active = { config, plugins, loadedAt: new Date().toISOString() };
  }

  async #read(): Promise<ServiceConfig> {
    return this.#o.path === undefined ? resolveConfig({}, this.#o.extraModules) : readConfig(this.#o.path, this.#o.extraModules);
  }

  /** The first load: errors propagate, so a service never starts on a bad config. */
  async load(): Promise<void> {
    await this.apply(await this.#read());
  }

  /** Re-reads the config; serialised, so overlapping file events apply in order. */
  reload(): Promise<ReloadResult> {
    this.#reloading = this.#reloading.then(async () => {
      try {
        await this.apply(await this.#read());
        this.#lastError = undefined;
        this.#o.metrics.configReloads.inc({ result: 'success' });
        this.#o.metrics.configLastReloadSuccess.set(1);
        this.#o.log.info({ path: this.#o.path }, 'config reloaded');
        return { ok: true };
      } catch (e: unknown) {
        this.#lastError = (e as Error).message;
        this.#o.metrics.configReloads.inc({ result: 'failure' });
        this.#o.metrics.configLastReloadSuccess.set(0);
        this.#o.log.error({ err: e, path: this.#o.path }, 'config reload failed; keeping the last good config');
        return { ok: false, error: this.#lastError };
      }
    });
    return this.#reloading;
  }

  /**
   * Watches the config's folder, not the file: a mounted ConfigMap changes by swapping the `..data`
   * symlink, which replaces the file rather than writing to it. A reload waits for `debounceMs` of
   * quiet; a file then found empty is most likely truncated with its new text still to come (editors
   * and `>` redirections write in two steps), so it waits `writeGraceMs` more for that write before
   * the empty file is reloaded — and rejected.
   */
  watch(debounceMs = 250, writeGraceMs = 3000): void {
    const path = this.#o.path;
    if (path === undefined || this.#watcher !== undefined) return;
    const isDir = statSync(path).isDirectory();
    const dir = isDir ? path : dirname(path);
    const file = basename(path);
    // `waited`: the file was already found empty once since this change; now it is reloaded as it is.
    const settle = async (change: number, waited: boolean): Promise<void> => {
      const empty = !isDir && !waited && (await isEmptyFile(path));
      if (change !== this.#changes) return;
      if (empty) {
        this.#o.log.info({ path, waitMs: writeGraceMs }, 'config file is empty; waiting for the write that usually follows a truncate');
        this.#timer = setTimeout(() => void settle(change, true), writeGraceMs);
        return;
      }
      await this.reload();
    };
    this.#watcher = watch(dir, (_event, changed) => {
      if (!isDir && changed !== null && changed !== file && !changed.startsWith('..')) return;
      clearTimeout(this.#timer);
      const change = ++this.#changes;
      this.#timer = setTimeout(() => void settle(change, false), debounceMs);
    });
    this.#watcher.on('error', (err) => this.#o.log.warn({ err }, 'config watch failed; reloads need a restart'));
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

async function isEmptyFile(path: string): Promise<boolean> {
  try {
    return isEmptyDocument(await readFile(path, 'utf8'));
  } catch {
    // Gone for a moment (replaced by rename): the reload will say so if it stays gone.
    return false;
  }
}
