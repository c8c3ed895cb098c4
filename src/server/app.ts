/**
 * buildApp(): the whole HTTP service as a fastify instance. Only the CLI calls listen(); tests use
 * app.inject(). Resources start in onReady and are released in onClose.
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Labels } from '../api/neuronetes.ts';
import { Actuator, isScalingSource } from '../autoscaling/actuator.ts';
import { AutoscalerService, type AutoscalerTrace } from '../autoscaling/autoscaler-service.ts';
import { clusterStateStore, type AutoscalerStateStore } from '../autoscaling/autoscaler-state.ts';
import type { ClusterSource } from '../cluster/cluster-source.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import { ConfigStore } from '../config/config-store.ts';
import { GuardrailService } from '../guardrails/guardrail-service.ts';
import { kedaScalerPlugin, type KedaScalerOptions } from '../keda/keda-scaler-plugin.ts';
import type { CachedModelsPublisher } from '../models/cached-models-publisher.ts';
import { ModelAgent } from '../models/model-agent.ts';
import { createLogger } from '../observability/logger.ts';
import { createMetrics, type ServiceMetrics } from '../observability/metrics.ts';
import { PluginStats } from '../observability/plugin-stats.ts';
import { TraceBuffer, type TraceEntry } from '../observability/trace-buffer.ts';
import { BUILTIN_MODULE, PluginModuleLoader } from '../plugins/module-loader.ts';
import type { PluginSet } from '../plugins/plugin-set.ts';
import { getGlobalRegistry, type PluginRegistry } from '../plugins/registry.ts';
import { autoscalerRoutes } from '../routes/autoscaler-routes.ts';
import { debugRoutes } from '../routes/debug-routes.ts';
import { guardrailRoutes } from '../routes/guardrail-routes.ts';
import { healthRoutes } from '../routes/health-routes.ts';
import { modelRoutes } from '../routes/model-routes.ts';
import { schedulerRoutes } from '../routes/scheduler-routes.ts';
import { ExtenderService } from '../scheduling/extender-service.ts';
import type { SchedulerTrace } from '../scheduling/scheduler-trace.ts';
import type { NeuroNetesServices, Traces } from './services.ts';

/** Full-node mode sends whole NodeLists: thousands of nodes are tens of MB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;

export interface BuildAppOptions {
  cluster: ClusterSource;
  /** Config file or mounted ConfigMap folder; absent means defaults. */
  configPath?: string;
  /** Module specifiers to load besides the config's `plugins:` (NEURONETES_PLUGINS). */
  extraModules?: readonly string[];
  /** Load NeuroNetes' built-in plugins (default true; they register in the global registry). */
  builtins?: boolean;
  /** Defaults to the global registry. Tests pass their own. */
  registry?: PluginRegistry;
  logger?: Logger;
  metrics?: ServiceMetrics;
  bodyLimit?: number;
  /** Serve HTTPS (with `requestCert` for mTLS) instead of HTTP. */
  https?: HttpsServerOptions;
  /** Watch the config file and reload on change (default true when a path is given). */
  watchConfig?: boolean;
  /** Where autoscaling history lives; default: memory, persisted in AgentPool status where the source can write it. */
  autoscalerState?: AutoscalerStateStore;
  /** The autoscaler's clock (epoch ms); tests inject one. */
  clock?: () => number;
  /** Also serve KEDA's external scaler gRPC interface on its own port. */
  keda?: KedaScalerOptions;
  /** Write each pool's decision to its scale subresource every `intervalMs` (leader only; needs a writable source). */
  actuator?: { intervalMs: number };
  /** Run as the node agent: serve /models over this node's model cache. */
  agent?: { cacheDir: string; nodeName: string; publisher?: CachedModelsPublisher };
}

export type NeuroNetesApp = FastifyInstance;

export async function buildApp(options: BuildAppOptions): Promise<NeuroNetesApp> {
  const log = options.logger ?? createLogger();
  const registry = options.registry ?? getGlobalRegistry();
  const metrics = options.metrics ?? createMetrics();
  const loader = new PluginModuleLoader(registry);
  const extraModules = [...(options.builtins ?? true ? [BUILTIN_MODULE] : []), ...(options.extraModules ?? [])];
  const config = new ConfigStore({
    registry,
    loader,
    metrics,
    log,
    extraModules,
    ...(options.configPath !== undefined ? { path: options.configPath } : {}),
  });
  await config.load();

  const app = Fastify({
    ...(options.https !== undefined ? { https: options.https } : {}),
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Wrong types and unknown fields are errors, not values to coerce or drop: "3" replicas or a
    // misspelt field is a client bug that must not pass silently.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
    requestIdHeader: 'x-request-id',
  });

  const stats = new PluginStats();
  const runtime = { metrics, stats, log };
  const { traceSize, traceBytes } = config.current.config.scheduler;
  const traces: Traces = {
    scheduler: new TraceBuffer<SchedulerTrace>(traceSize, (e) => e.pool, traceBytes),
    autoscaler: new TraceBuffer<AutoscalerTrace>(config.current.config.autoscaler.traceSize, undefined, traceBytes),
    'model-loader': new TraceBuffer<TraceEntry>(traceSize, undefined, traceBytes),
    guardrail: new TraceBuffer<TraceEntry>(traceSize, undefined, traceBytes),
    'metrics-provider': new TraceBuffer<TraceEntry>(traceSize, undefined, traceBytes),
  };
  const plugins = (): PluginSet => config.current.plugins;
  const extender = new ExtenderService({
    runtime,
    cluster: options.cluster,
    plugins,
    config: () => config.current.config,
    trace: traces.scheduler,
  });
  const autoscaler = new AutoscalerService({
    runtime,
    cluster: options.cluster,
    plugins,
    config: () => config.current.config,
    trace: traces.autoscaler,
    store: options.autoscalerState ?? clusterStateStore(options.cluster, log),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  });
  let actuator: Actuator | undefined;
  if (options.actuator !== undefined) {
    if (!isScalingSource(options.cluster)) throw new Error(`the actuator needs a cluster source that can scale pools (--cluster kubernetes), not ${options.cluster.kind}`);
    actuator = new Actuator({ autoscaler, cluster: options.cluster, intervalMs: options.actuator.intervalMs, log, metrics });
  }
  const guardrails = new GuardrailService({ runtime, cluster: options.cluster, plugins, config: () => config.current.config, trace: traces.guardrail, registry: metrics.registry });
  const models =
    options.agent === undefined
      ? undefined
      : new ModelAgent({ ...options.agent, runtime, cluster: options.cluster, plugins, trace: traces['model-loader'], registry: metrics.registry });
  const services: NeuroNetesServices = { cluster: options.cluster, config, metrics, stats, traces, runtime, extender, autoscaler, guardrails, models };
  app.decorate('neuronetes', services);

  const countPending = (view: ClusterView): void => {
    metrics.schedulerPendingPods.set(view.pods().filter((p) => (p.spec?.nodeName ?? '') === '' && p.metadata.labels?.[Labels.agentPool] !== undefined).length);
  };
  const unsubscribe = options.cluster.onChange(countPending);
  app.addHook('onReady', async () => {
    await options.cluster.start();
    countPending(options.cluster.view());
    if (options.watchConfig ?? options.configPath !== undefined) config.watch();
    await models?.start(app.log);
    actuator?.start();
  });
  app.addHook('onClose', async () => {
    unsubscribe();
    await actuator?.close();
    config.close();
    await options.cluster.close();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ err: error.message, code: error.code }, 'bad request');
    return reply.status(status).send({
      statusCode: status,
      code: error.code ?? 'NN_INTERNAL',
      error: status >= 500 ? 'Internal Server Error' : 'Bad Request',
      message: error.message,
    });
  });

  await app.register(healthRoutes);
  await app.register(schedulerRoutes, { prefix: '/scheduler' });
  await app.register(autoscalerRoutes, { prefix: '/autoscaler' });
  await app.register(debugRoutes, { prefix: '/debug' });
  await app.register(guardrailRoutes, { prefix: '/guardrails' });
  if (models !== undefined) await app.register(modelRoutes, { prefix: '/models', agent: models });
  if (options.keda !== undefined) await app.register(kedaScalerPlugin, options.keda);
  return app;
}
