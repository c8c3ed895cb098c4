/** The built-in autoscaler plugins. */
import { registerPlugin } from 'neuronetes';
import { multiMetric } from './multi-metric.ts';
import { slo } from './slo.ts';

registerPlugin(multiMetric);
registerPlugin(slo);
