/** What the routes share: decorated onto the fastify instance as `app.neuronetes`. */
import type { AutoscalerService, AutoscalerTrace } from '../autoscaling/autoscaler-service.ts';
import type { ClusterSource } from '../cluster/cluster-source.ts';
import type { ConfigStore } from '../config/config-store.ts';
import type { GuardrailService } from '../guardrails/guardrail-service.ts';
import type { ModelAgent } from '../models/model-agent.ts';
import type { ServiceMetrics } from '../observability/metrics.ts';
import type { PluginStats } from '../observability/plugin-stats.ts';
import type { PoolInspector } from '../pools/pool-inspector.ts';
import type { TraceBuffer, TraceEntry } from '../observability/trace-buffer.ts';
import type { ChainRuntime } from '../plugins/plugin-pass.ts';
import type { ExtenderService } from '../scheduling/extender-service.ts';
import type { SchedulerTrace } from '../scheduling/scheduler-trace.ts';

/**
 * The last decisions per plugin type, for /debug/plugins/<type>/trace. Metrics providers have none of
 * their own: their calls are part of each autoscaler decision (its `providers`).
 */
export interface Traces {
  readonly scheduler: TraceBuffer<SchedulerTrace>;
  readonly autoscaler: TraceBuffer<AutoscalerTrace>;
  readonly guardrail: TraceBuffer<TraceEntry>;
  readonly 'model-loader': TraceBuffer<TraceEntry>;
}

export interface NeuroNetesServices {
  readonly cluster: ClusterSource;
  readonly config: ConfigStore;
  readonly metrics: ServiceMetrics;
  readonly stats: PluginStats;
  readonly traces: Traces;
  readonly runtime: ChainRuntime;
  readonly extender: ExtenderService;
  readonly autoscaler: AutoscalerService;
  readonly guardrails: GuardrailService;
  /** The node agent's model cache; only in `neuronetes agent` (buildApp's `agent` option). */
  readonly models: ModelAgent | undefined;
  /** Looks at a pool's pods, target and autoscaler (GET /pools/…/why). */
  readonly pools: PoolInspector;
}

declare module 'fastify' {
  interface FastifyInstance {
    neuronetes: NeuroNetesServices;
  }
}
