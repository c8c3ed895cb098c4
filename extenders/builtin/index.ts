/**
 * NeuroNetes' built-in plugins. The service imports this module at start-up (as
 * `neuronetes:builtin/index`); each import below registers its plugins.
 */
import './scheduler/index.ts';
import './autoscaler/multi-metric.ts';
import './autoscaler/slo.ts';
import './metrics/static.ts';
import './metrics/prometheus.ts';
import './metrics/pods.ts';
import './guardrail/index.ts';
import './model-loader/index.ts';
