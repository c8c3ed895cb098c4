/** Builds the real app for a test: a fresh plugin registry, a silent logger, a cluster in memory or on disk. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { ClusterObjects } from '../../src/cluster/cluster-view.ts';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import type { PluginDefinition } from '../../src/plugins/definition.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import type { PluginByType, PluginType } from '../../src/plugins/types.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';

export interface TestAppOptions {
  plugins?: { [T in PluginType]?: PluginByType[T][] };
  /** Plugins written with definePlugin (built-ins among them), registered as they are at start-up. */
  definitions?: PluginDefinition[];
  /** The config document; written to a temp file so reload tests can rewrite it. */
  config?: Record<string, unknown>;
  /** Use this config file or folder instead of writing `config`. */
  configPath?: string;
  cluster?: ClusterObjects;
  snapshotPath?: string;
  bodyLimit?: number;
  watchConfig?: boolean;
}

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestApp {
  app: NeuroNetesApp;
  registry: PluginRegistry;
  configPath: string;
}

export const EMPTY_CLUSTER_OBJECTS: ClusterObjects = { nodes: [], pods: [], agentPools: [], agentClasses: [], models: [] };

export async function tempDir(t: Teardown, prefix = 'neuronetes-test-'): Promise<string> {
  const { rm } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function buildTestApp(t: Teardown, options: TestAppOptions = {}): Promise<TestApp> {
  const registry = new PluginRegistry();
  for (const [type, list] of Object.entries(options.plugins ?? {}) as [PluginType, PluginByType[PluginType][]][]) {
    for (const plugin of list) registry.register(type, plugin, 'test');
  }
  for (const definition of options.definitions ?? []) registry.define(definition, 'test');
  let configPath = options.configPath;
  if (configPath === undefined) {
    configPath = join(await tempDir(t), 'config.yaml');
    await writeFile(configPath, stringify(options.config ?? {}));
  }
  const log = pino({ level: 'silent' });
  const cluster = new SnapshotSource({
    log,
    watch: false,
    ...(options.snapshotPath !== undefined ? { path: options.snapshotPath } : { objects: options.cluster ?? EMPTY_CLUSTER_OBJECTS }),
  });
  const app = await buildApp({
    cluster,
    registry,
    builtins: false,
    logger: log,
    configPath,
    watchConfig: options.watchConfig ?? false,
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
  });
  t.teardown(() => app.close());
  await app.ready();
  return { app, registry, configPath };
}
