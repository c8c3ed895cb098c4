/** The built-in metrics providers. */
import { registerPlugin } from 'neuronetes';
import { pods } from './pods.ts';
import { prometheus } from './prometheus.ts';
import { staticMetrics } from './static.ts';

registerPlugin(staticMetrics);
registerPlugin(prometheus);
registerPlugin(pods);
