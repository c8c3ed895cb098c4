/**
 * NeuroNetes' built-in scheduler plugins. Filters run hard checks first (node-selector, cost,
 * topology, mig) and gpu-fit last, whose final check is a shortfall: a node reaching FailedNodes is
 * one where preemption could help. Weights and config are in the `scheduler-plugins:` config.
 */
import { registerScheduler } from '../../../src/plugins/registry.ts';
import { CostPlugin } from './cost.ts';
import { DataLocalityPlugin } from './data-locality.ts';
import { GpuFitPlugin } from './gpu-fit.ts';
import { MigPlugin } from './mig.ts';
import { ModelCachePlugin } from './model-cache.ts';
import { NodeSelectorPlugin } from './node-selector.ts';
import { PoolSpreadPlugin } from './pool-spread.ts';
import { TopologyPlugin } from './topology.ts';

for (const plugin of [
  new NodeSelectorPlugin(),
  new CostPlugin(),
  new TopologyPlugin(),
  new MigPlugin(),
  new GpuFitPlugin(),
  new ModelCachePlugin(),
  new DataLocalityPlugin(),
  new PoolSpreadPlugin(),
]) {
  registerScheduler(plugin);
}
