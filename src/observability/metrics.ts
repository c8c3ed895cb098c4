/** The service's Prometheus metrics, in one Registry per app instance (tests build many apps). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const PLUGIN_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

export interface ServiceMetrics {
  readonly registry: Registry;
  /** The plugin guide's metric: one observation per plugin per request phase (all nodes of a call). */
  readonly pluginDuration: Histogram<'plugin_name' | 'plugin_type' | 'phase'>;
  readonly pluginFailures: Counter<'plugin_name' | 'plugin_type' | 'kind'>;
  readonly pluginScoreClamped: Counter<'plugin_name'>;
  readonly schedulerLatency: Histogram<'verb'>;
  readonly schedulerAttempts: Counter<'verb'>;
  readonly schedulerSuccess: Counter<'verb'>;
  readonly schedulerUnknownPool: Counter;
  readonly schedulerPendingPods: Gauge;
  readonly configReloads: Counter<'result'>;
  readonly configLastReloadSuccess: Gauge;
  readonly autoscalerDesiredReplicas: Gauge<'pool'>;
  readonly autoscalerCurrentReplicas: Gauge<'pool'>;
  readonly autoscalerMetricValue: Gauge<'pool' | 'metric'>;
  readonly autoscalerMetricUnavailable: Counter<'pool' | 'metric' | 'status'>;
  readonly autoscalerDecisions: Counter<'pool' | 'reason'>;
  readonly autoscalerDecisionDuration: Histogram;
  readonly autoscalerActuations: Counter<'pool' | 'result'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): ServiceMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const configReloads = new Counter({
    name: 'neuronetes_config_reloads_total',
    help: 'Config reloads by result (success, failure); a failed reload keeps the last good config',
    labelNames: ['result'] as const,
    registers,
  });
  configReloads.labels('success').inc(0);
  configReloads.labels('failure').inc(0);
  return {
    registry,
    pluginDuration: new Histogram({
      name: 'plugin_duration_seconds',
      help: 'Plugin execution duration, per plugin per request phase',
      labelNames: ['plugin_name', 'plugin_type', 'phase'] as const,
      buckets: PLUGIN_BUCKETS,
      registers,
    }),
    pluginFailures: new Counter({
      name: 'neuronetes_plugin_failures_total',
      help: 'Plugin calls that threw (kind=error) or missed their deadline (kind=timeout)',
      labelNames: ['plugin_name', 'plugin_type', 'kind'] as const,
      registers,
    }),
    pluginScoreClamped: new Counter({
      name: 'neuronetes_plugin_score_clamped_total',
      help: 'Scheduler plugin scores outside 0..100 (or not a number) that were clamped',
      labelNames: ['plugin_name'] as const,
      registers,
    }),
    schedulerLatency: new Histogram({
      name: 'neuronetes_scheduler_latency_seconds',
      help: 'Extender call latency by verb',
      labelNames: ['verb'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    schedulerAttempts: new Counter({
      name: 'neuronetes_scheduler_attempts_total',
      help: 'Extender calls by verb',
      labelNames: ['verb'] as const,
      registers,
    }),
    schedulerSuccess: new Counter({
      name: 'neuronetes_scheduler_success_total',
      help: 'Extender calls answered without error (filter: at least one node kept)',
      labelNames: ['verb'] as const,
      registers,
    }),
    schedulerUnknownPool: new Counter({
      name: 'neuronetes_scheduler_unknown_pool_total',
      help: 'Pods labelled with an AgentPool the extender does not know',
      registers,
    }),
    schedulerPendingPods: new Gauge({
      name: 'neuronetes_scheduler_pending_pods',
      help: 'Pods of agent pools that are not bound to a node yet, as the cluster source sees them',
      registers,
    }),
    configReloads,
    configLastReloadSuccess: new Gauge({
      name: 'neuronetes_config_last_reload_successful',
      help: '1 when the last config reload succeeded, 0 when it failed and the previous config is in use',
      registers,
    }),
    autoscalerDesiredReplicas: new Gauge({
      name: 'neuronetes_autoscaler_desired_replicas',
      help: 'Replicas the last (non-dry-run) autoscaling decision wants for the pool (namespace/name)',
      labelNames: ['pool'] as const,
      registers,
    }),
    autoscalerCurrentReplicas: new Gauge({
      name: 'neuronetes_autoscaler_current_replicas',
      help: 'Replicas the pool had at its last autoscaling decision',
      labelNames: ['pool'] as const,
      registers,
    }),
    autoscalerMetricValue: new Gauge({
      name: 'neuronetes_autoscaler_metric_value',
      help: 'Value of each pool metric at the last decision (after its averaging window; latencies in seconds)',
      labelNames: ['pool', 'metric'] as const,
      registers,
    }),
    autoscalerMetricUnavailable: new Counter({
      name: 'neuronetes_autoscaler_metric_unavailable_total',
      help: 'Decisions in which a pool metric was stale, missing, failed or had an invalid target',
      labelNames: ['pool', 'metric', 'status'] as const,
      registers,
    }),
    autoscalerDecisions: new Counter({
      name: 'neuronetes_autoscaler_decisions_total',
      help: 'Autoscaling decisions by pool and final reason (ScaleUpLimit, Cooldown, MetricsUnavailable, ...)',
      labelNames: ['pool', 'reason'] as const,
      registers,
    }),
    autoscalerDecisionDuration: new Histogram({
      name: 'neuronetes_autoscaler_decision_duration_seconds',
      help: 'Time to compute one autoscaling decision, metrics fetching included',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5],
      registers,
    }),
    autoscalerActuations: new Counter({
      name: 'neuronetes_autoscaler_actuations_total',
      help: 'Actuator rounds per pool by result: scaled (spec.replicas written), unchanged, failed (logged; other pools go on)',
      labelNames: ['pool', 'result'] as const,
      registers,
    }),
  };
}
