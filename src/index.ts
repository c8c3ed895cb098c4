/**
 * The `neuronetes` package entry: the plugin API for third-party plugins, and the building blocks for
 * embedding the service.
 *
 *   import { registerScheduler, type SchedulerPlugin } from 'neuronetes';
 */
export {
  getGlobalRegistry,
  registerAutoscaler,
  registerGuardrail,
  registerMetricsProvider,
  registerModelLoader,
  registerPlugin,
  registerScheduler,
  PluginRegistry,
  PluginRegistrationError,
  type RegisteredPlugin,
} from './plugins/registry.ts';
export type {
  AutoscalerContext,
  AutoscalerPlugin,
  EvictionProposal,
  EvictionResult,
  EvictionVerdict,
  FilterResult,
  FilterVerdict,
  Guardrail,
  GuardrailAction,
  GuardrailDirection,
  GuardrailRequest,
  GuardrailResult,
  MaybePromise,
  MetricsProvider,
  ModelLoader,
  ModelLoaderContext,
  PassPlan,
  PluginContext,
  PluginType,
  SchedulerContext,
  SchedulerPlugin,
} from './plugins/types.ts';
export { SKIP } from './plugins/types.ts';
export { definePlugin, type PluginBody, type PluginDefinition, type PluginHandle, type SettingDefaults } from './plugins/definition.ts';
export { CycleState, stateKey, type StateKey } from './plugins/cycle-state.ts';
export type { ClusterView } from './cluster/cluster-view.ts';
export { MIG_RESOURCE_PREFIX, podMigRequests, type NodeFacts } from './cluster/node-facts.ts';
export {
  DEFAULT_INSTANCE_INTERCONNECTS,
  FactSources,
  instanceInterconnect,
  labelNames,
  typeMatches,
  typeTokens,
  unknownBecause,
  type CapacityType,
  type Fact,
  type MigStrategy,
} from './cluster/node-labels.ts';
export { NEUTRAL_SCORE } from './scheduling/score-chain.ts';
export { resolvePool, type PoolResolution } from './scheduling/pool-resolver.ts';
export { GPU_RESOURCE, type Node, type Pod, type Taint } from './api/kubernetes.ts';
export { Labels, Annotations, type AgentPool, type AgentClass, type Model } from './api/neuronetes.ts';
export { DURATION_PATTERN, METRIC_TYPES } from './api/neuronetes.ts';
export type { MetricsProviderExtras } from './autoscaling/metric-collection.ts';
export { metricKey, metricKind, snakeName, type MetricKind } from './autoscaling/metric-kinds.ts';
export { MetricTargetError, parseMetricTarget } from './autoscaling/metric-target.ts';
export { MAX_REPLICAS, proposeForMetric, proposeReplicas, type MetricAsk, type MetricProposal, type ReplicaInputs } from './autoscaling/replica-calculator.ts';
export { isActivePod } from './cluster/cluster-view.ts';
export { ByteBudget, ModelTooLargeError, modelSizeBytes } from './models/model-size.ts';
export { parseDuration } from './util/duration.ts';
export { plural } from './util/plural.ts';
export { parseQuantity, tryParseQuantity } from './util/quantity.ts';
export { buildApp, type BuildAppOptions } from './server/app.ts';
export { SnapshotSource } from './cluster/snapshot-source.ts';
export { PRIVATE_KEY_BEGIN } from './guardrails/stream-screen.ts';
