/**
 * NeuroNetes' built-in scheduler plugins. Filters run hard checks first (node-selector, cost,
 * topology, mig) and gpu-fit last, whose final check is a shortfall: a node reaching FailedNodes is
 * one where preemption could help. pool-priority only answers the preempt verb. Weights and config
 * are in the `scheduler-plugins:` config.
 */
import { registerPlugin } from 'neuronetes';
import { costPlugin } from './cost.ts';
import { dataLocalityPlugin } from './data-locality.ts';
import { gpuFitPlugin } from './gpu-fit.ts';
import { migPlugin } from './mig.ts';
import { modelCachePlugin } from './model-cache.ts';
import { nodeSelectorPlugin } from './node-selector.ts';
import { poolPriorityPlugin } from './pool-priority.ts';
import { poolSpreadPlugin } from './pool-spread.ts';
import { topologyPlugin } from './topology.ts';

for (const plugin of [
  nodeSelectorPlugin,
  costPlugin,
  topologyPlugin,
  migPlugin,
  gpuFitPlugin,
  modelCachePlugin,
  dataLocalityPlugin,
  poolSpreadPlugin,
  poolPriorityPlugin,
])
  registerPlugin(plugin);
