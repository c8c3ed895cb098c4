/** Shared set-up for the autoscaling tests: an app on the example cluster with a config and a clock. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import type { AutoscalerStateStore } from '../../src/autoscaling/autoscaler-state.ts';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { PluginDefinition } from '../../src/plugins/definition.ts';
import { resolvePluginConfig } from '../../src/plugins/plugin-config.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import type { PluginByType, PluginType } from '../../src/plugins/types.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';

export const EXAMPLE_CLUSTER = join(import.meta.dirname, '..', '..', 'examples', 'cluster');
export const T0 = Date.parse('2030-01-01T00:00:00Z');

export interface TestApp {
  app: NeuroNetesApp;
  clock: { now: number };
}

/** `config` is the YAML document as an object; `cluster` a snapshot path (default: the example cluster). */
export async function testApp(config: Record<string, unknown>, options: { cluster?: string; store?: AutoscalerStateStore } = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'nn-autoscale-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, stringify(config));
  const log = createLogger('silent');
  const clock = { now: T0 };
  const app = await buildApp({
    cluster: new SnapshotSource({ path: options.cluster ?? EXAMPLE_CLUSTER, log, watch: false }),
    configPath,
    logger: log,
    metrics: createMetrics({ defaultMetrics: false }),
    watchConfig: false,
    clock: () => clock.now,
    ...(options.store !== undefined ? { autoscalerState: options.store } : {}),
  });
  await app.ready();
  return { app, clock };
}

/** A config where the only metrics source is the static provider and multi-metric decides alone. */
export const STATIC_ONLY = {
  'autoscaler-plugins': [{ name: 'slo', enabled: false }],
  'metrics-provider-plugins': [
    { name: 'prometheus', enabled: false },
    { name: 'pods', enabled: false },
  ],
};

export function pool(
  name: string,
  spec: Partial<AgentPool['spec']> & { autoscaling?: AgentPool['spec']['autoscaling'] },
  extra: Partial<AgentPool> = {},
): AgentPool {
  return {
    apiVersion: 'neuronetes.io/v1alpha1',
    kind: 'AgentPool',
    ...extra,
    metadata: { name, namespace: 'test', ...extra.metadata },
    spec: { agentClassRef: { name: 'x' }, minReplicas: 1, maxReplicas: 100, ...spec },
  };
}

/** Writes pools as a snapshot folder. */
export function clusterWith(pools: readonly AgentPool[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'nn-cluster-'));
  writeFileSync(join(dir, 'pools.yaml'), pools.map((p) => stringify(p)).join('---\n'));
  return dir;
}

/** The plugin a definition makes from `config`, validated and default-filled as the service does it. */
export function instanceOf<T extends PluginType>(definition: PluginDefinition<T>, config: Record<string, unknown> = {}): PluginByType[T] {
  const checked = resolvePluginConfig<Record<string, unknown>>(definition.config, config);
  if (!checked.ok) throw new Error(checked.problems.join('; '));
  const registry = new PluginRegistry();
  return registry.instance(registry.define(definition), checked.config, createLogger('silent'));
}
