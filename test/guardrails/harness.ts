/** Builds the real app over a snapshot cluster and a config file in a fresh temp folder. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Test } from 'tap';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import type { CachedModelsPublisher } from '../../src/models/cached-models-publisher.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';

export interface TestAppOptions {
  /** Kubernetes YAML for the snapshot cluster. */
  cluster?: string;
  /** The plugin config, as YAML. */
  config?: string;
  /** Run as the node agent; the cache defaults to `cache/` in the fixture folder. */
  agent?: { cacheDir?: string; nodeName?: string; publisher?: CachedModelsPublisher };
}

/** A temp folder removed when the test ends. */
export async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'neuronetes-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function buildTestApp(t: Test, options: TestAppOptions = {}): Promise<NeuroNetesApp> {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'cluster.yaml'), options.cluster ?? '');
  await writeFile(join(dir, 'config.yaml'), options.config ?? '{}');
  const log = pino({ level: 'silent' });
  const app = await buildApp({
    cluster: new SnapshotSource({ path: join(dir, 'cluster.yaml'), log, watch: false }),
    configPath: join(dir, 'config.yaml'),
    watchConfig: false,
    logger: log,
    metrics: createMetrics({ defaultMetrics: false }),
    ...(options.agent !== undefined ? { agent: { nodeName: 'gpu-node-1', cacheDir: join(dir, 'cache'), ...options.agent } } : {}),
  });
  t.teardown(() => app.close());
  await app.ready();
  return app;
}
