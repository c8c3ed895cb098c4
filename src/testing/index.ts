/**
 * `neuronetes/testing`: builders for the objects plugins see, and harnesses that run one plugin as
 * the service runs it (config validated, deadline enforced, answers checked).
 *
 *   import { gpuNode, pod, agentPool, runFilter } from 'neuronetes/testing';
 *   const answers = await runFilter(myPlugin, { pod: pod({ name: 'p', pool: 'chat' }), pool: agentPool({ name: 'chat' }), nodes: [gpuNode({ name: 'n1' })] });
 */
export {
  agentClass,
  agentPool,
  clusterView,
  cpuNode,
  gpuNode,
  model,
  pod,
  type AgentClassOptions,
  type AgentPoolOptions,
  type ClusterInput,
  type GpuNodeOptions,
  type MixedMig,
  type ModelOptions,
  type NodeOptions,
  type PodOptions,
  type SingleMig,
} from './builders.ts';
export {
  runAutoscaler,
  runFilter,
  runGuardrail,
  runLoader,
  runMetrics,
  runScore,
  type AutoscalerRun,
  type FilterAnswer,
  type GuardrailRun,
  type LoaderRun,
  type MetricsRun,
  type PluginUnderTest,
  type RunOptions,
  type SchedulingRun,
  type ScoreAnswer,
} from './harness.ts';
export { ConfigError } from '../config/parse-config.ts';
export { PluginTimeoutError } from '../plugins/plugin-pass.ts';
export { MalformedAnswerError } from '../plugins/plugin-answer.ts';
