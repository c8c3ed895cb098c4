/**
 * NeuroNetes' built-in plugins. The service imports this module at start-up (as
 * `neuronetes:builtin/index`); each import below registers its plugins.
 */
import './scheduler/index.ts';
import './autoscaler/index.ts';
import './metrics/index.ts';
import './guardrail/index.ts';
import './model-loader/index.ts';
