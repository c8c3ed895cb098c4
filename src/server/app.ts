/**
 * buildApp(): the whole HTTP service as a fastify instance. Only the CLI calls listen(); tests use
 * app.inject(). Resources start in onReady and are released in onClose.
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Labels } from '../api/neuronetes.ts';
import { Actuator, isScalingSource } from '../autoscaling/actuator.ts';
import { AutoscalerService, type AutoscalerTrace } from '../autoscaling/autoscaler-service.ts';
import { clusterStateStore, type AutoscalerStateStore } from '../autoscaling/autoscaler-state.ts';
import type { ClusterSource } from '../cluster/cluster-source.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import { ConfigStore } from '../config/config-store.ts';
import type { ServiceConfig } from '../config/schema.ts';
import { GuardrailService } from '../guardrails/guardrail-service.ts';
import { kedaScalerPlugin, type KedaScalerOptions } from '../keda/keda-scaler-plugin.ts';
import type { CachedModelsPublisher } from '../models/cached-models-publisher.ts';
import { ModelAgent } from '../models/model-agent.ts';
import { createLogger } from '../observability/logger.ts';
import { createMetrics, type ServiceMetrics } from '../observability/metrics.ts';
import { PluginStats } from '../observability/plugin-stats.ts';
import { isModelStatusSource, ModelStatusController } from '../models/model-status.ts';
import { isPoolSource, PoolController } from '../pools/pool-controller.ts';
import type { PoolEventSink } from '../pools/pool-events.ts';
import { PoolInspector } from '../pools/pool-inspector.ts';
import type { ScaleTargetApi } from '../pools/scale-target.ts';
import { TraceBuffer, type TraceEntry } from '../observability/trace-buffer.ts';
import { BUILTIN_MODULE, PluginModuleLoader } from '../plugins/module-loader.ts';
import type { PluginSet } from '../plugins/plugin-set.ts';
import { getGlobalRegistry, type PluginRegistry } from '../plugins/registry.ts';
import { PLUGIN_TYPES } from '../plugins/types.ts';
import { autoscalerRoutes } from '../routes/autoscaler-routes.ts';
import { debugRoutes } from '../routes/debug-routes.ts';
import { guardrailRoutes } from '../routes/guardrail-routes.ts';
import { healthRoutes } from '../routes/health-routes.ts';
import { modelRoutes } from '../routes/model-routes.ts';
import { poolRoutes } from '../routes/pool-routes.ts';
import { schedulerRoutes } from '../routes/scheduler-routes.ts';
import { ExtenderService } from '../scheduling/extender-service.ts';
import type { SchedulerTrace } from '../scheduling/scheduler-trace.ts';
import { BodyBudget, installBodyBudget } from './body-budget.ts';
import { errorHandler } from './error-handler.ts';
import { ADMIN_ONLY, installExposure, servedOn } from './exposure.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, httpTimeouts } from './listeners.ts';
import type { NeuroNetesServices, Traces } from './services.ts';

/** Full-node mode sends whole NodeLists: thousands of nodes are tens of MB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;
/** Every route but filter, prioritize and preempt: decisions, guardrail checks, simulations. */
const SMALL_BODY_LIMIT = 4 * 1024 * 1024;
/** Two full-size full-node bodies at once; cache-mode calls are a few KB. */
export const DEFAULT_BODY_BUDGET = 2 * DEFAULT_BODY_LIMIT;

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
  /** Largest body of the NodeList-carrying verbs (filter, prioritize, preempt); other routes take at most SMALL_BODY_LIMIT. */
  bodyLimit?: number;
  /** Request-body bytes held at once across all requests (default DEFAULT_BODY_BUDGET). */
  bodyBudget?: number;
  /** Time for a whole request, headers and body, to arrive (default DEFAULT_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
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
  /** Reads pools' scale targets (GET /pools/…/why, the pool controller); absent without an API server. */
  scaleTargets?: ScaleTargetApi;
  /** Run the pool controller on the leader: targets scaled to spec.replicas, status and Events kept (needs scaleTargets). */
  poolController?: { intervalMs: number; events: PoolEventSink; recountDelayMs?: number };
  /** Keep every Model's status (phase, cachedNodes, Cached condition) current from the Nodes' cached-models annotations, on the leader. */
  modelStatus?: { intervalMs: number; changeDelayMs?: number };
  /** Run as the node agent: serve /models over this node's model cache. */
  agent?: { cacheDir: string; nodeName: string; publisher?: CachedModelsPublisher };
}

export type NeuroNetesApp = FastifyInstance;

/** Loads the config and its plugins (NeuroNetes' built-ins first), saying which plugins are held off. */
async function loadConfig(options: BuildAppOptions, metrics: ServiceMetrics, log: Logger): Promise<ConfigStore> {
  const registry = options.registry ?? getGlobalRegistry();
  const extraModules = [...((options.builtins ?? true) ? [BUILTIN_MODULE] : []), ...(options.extraModules ?? [])];
  const config = new ConfigStore({
    registry,
    loader: new PluginModuleLoader(registry),
    metrics,
    log,
    extraModules,
    ...(options.configPath !== undefined ? { path: options.configPath } : {}),
  });
  await config.load();
  // A plugin held off for a setting it cannot run without (prometheus with no URL) says so at start-up.
  for (const type of PLUGIN_TYPES) {
    for (const p of config.current.plugins.all(type))
      if (p.settings.off !== undefined) log.info({ type, plugin: p.name }, `${type} plugin ${p.name} is ${p.settings.off}`);
  }
  return config;
}

function createFastify(options: BuildAppOptions, bodyLimit: number, log: Logger): FastifyInstance {
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // A slow or stalled body holds memory until the whole request has arrived or the timeout cuts it.
  const timeouts = httpTimeouts(requestTimeoutMs);
  return Fastify({
    ...(options.https !== undefined ? { https: { ...options.https, ...timeouts } } : { http: timeouts }),
    requestTimeout: requestTimeoutMs,
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: Math.min(bodyLimit, SMALL_BODY_LIMIT),
    // Wrong types and unknown fields are errors, not values to coerce or drop: "3" replicas or a
    // misspelt field is a client bug that must not pass silently.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
    requestIdHeader: 'x-request-id',
    // One error handler (error-handler.ts): a second one at the root is a wiring mistake.
    allowErrorHandlerOverride: false,
  });
}

function traceRings(config: ServiceConfig): Traces {
  const { traceSize, traceBytes } = config.scheduler;
  return {
    scheduler: new TraceBuffer<SchedulerTrace>(traceSize, (e) => e.pool, traceBytes),
    autoscaler: new TraceBuffer<AutoscalerTrace>(config.autoscaler.traceSize, undefined, traceBytes),
    'model-loader': new TraceBuffer<TraceEntry>(traceSize, undefined, traceBytes),
    guardrail: new TraceBuffer<TraceEntry>(traceSize, undefined, traceBytes),
  };
}

/** The leader's loops, as the options ask for them: the pool controller and the actuator (which reports its decisions to it). */
function leaderLoops(options: BuildAppOptions, services: NeuroNetesServices): { poolController?: PoolController; actuator?: Actuator } {
  const { cluster, autoscaler, pools, metrics, runtime } = services;
  const { log } = runtime;
  let poolController: PoolController | undefined;
  if (options.poolController !== undefined) {
    if (options.scaleTargets === undefined || !isPoolSource(cluster))
      throw new Error(`the pool controller needs an API server (--cluster kubernetes), not ${cluster.kind}`);
    poolController = new PoolController({ ...options.poolController, cluster, inspector: pools, targets: options.scaleTargets, log });
  }
  if (options.actuator === undefined) return poolController !== undefined ? { poolController } : {};
  if (!isScalingSource(cluster)) throw new Error(`the actuator needs a cluster source that can scale pools (--cluster kubernetes), not ${cluster.kind}`);
  const observed = poolController;
  const actuator = new Actuator({
    autoscaler,
    cluster,
    intervalMs: options.actuator.intervalMs,
    log,
    metrics,
    ...(observed !== undefined ? { onDecision: (d) => observed.observeDecision(d) } : {}),
  });
  return { ...(poolController !== undefined ? { poolController } : {}), actuator };
}

function modelStatusController(options: BuildAppOptions, cluster: ClusterSource, log: Logger): ModelStatusController | undefined {
  if (options.modelStatus === undefined) return undefined;
  if (!isModelStatusSource(cluster)) throw new Error(`the model status controller needs an API server (--cluster kubernetes), not ${cluster.kind}`);
  return new ModelStatusController({ ...options.modelStatus, cluster, log });
}

async function registerRoutes(app: FastifyInstance, options: BuildAppOptions, bodyLimit: number): Promise<void> {
  await app.register(errorHandler);
  installExposure(app);
  installBodyBudget(app, new BodyBudget(options.bodyBudget ?? DEFAULT_BODY_BUDGET), app.neuronetes.metrics.registry);
  await app.register(healthRoutes);
  await app.register(schedulerRoutes, { prefix: '/scheduler', bodyLimit });
  await app.register(autoscalerRoutes, { prefix: '/autoscaler' });
  await app.register(servedOn(ADMIN_ONLY, debugRoutes), { prefix: '/debug' });
  await app.register(guardrailRoutes, { prefix: '/guardrails' });
  await app.register(poolRoutes, { prefix: '/pools' });
  const { models } = app.neuronetes;
  if (models !== undefined) await app.register(modelRoutes, { prefix: '/models', agent: models });
  if (options.keda !== undefined) await app.register(kedaScalerPlugin, options.keda);
}

export async function buildApp(options: BuildAppOptions): Promise<NeuroNetesApp> {
  const log = options.logger ?? createLogger();
  const metrics = options.metrics ?? createMetrics();
  const config = await loadConfig(options, metrics, log);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = createFastify(options, bodyLimit, log);

  const { cluster } = options;
  const stats = new PluginStats();
  const runtime = { metrics, stats, log };
  const traces = traceRings(config.current.config);
  const plugins = (): PluginSet => config.current.plugins;
  const chain = { runtime, cluster, plugins, config: () => config.current.config };
  const autoscaler = new AutoscalerService({
    ...chain,
    trace: traces.autoscaler,
    store: options.autoscalerState ?? clusterStateStore(cluster, log),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  });
  const services: NeuroNetesServices = {
    cluster,
    config,
    metrics,
    stats,
    traces,
    runtime,
    extender: new ExtenderService({ ...chain, trace: traces.scheduler }),
    autoscaler,
    guardrails: new GuardrailService({ ...chain, trace: traces.guardrail, registry: metrics.registry }),
    models:
      options.agent === undefined
        ? undefined
        : new ModelAgent({ ...options.agent, runtime, cluster, plugins, trace: traces['model-loader'], registry: metrics.registry }),
    pools: new PoolInspector({ view: () => cluster.view(), targets: options.scaleTargets, autoscaler }),
  };
  app.decorate('neuronetes', services);
  const { poolController, actuator } = leaderLoops(options, services);
  const modelStatus = modelStatusController(options, cluster, log);

  const countPending = (view: ClusterView): void => {
    metrics.schedulerPendingPods.set(view.pods().filter((p) => (p.spec?.nodeName ?? '') === '' && p.metadata.labels?.[Labels.agentPool] !== undefined).length);
  };
  const unsubscribe = cluster.onChange(countPending);
  app.addHook('onReady', async () => {
    await cluster.start();
    countPending(cluster.view());
    if (options.watchConfig ?? options.configPath !== undefined) config.watch();
    await services.models?.start(app.log);
    actuator?.start();
    poolController?.start();
    modelStatus?.start();
  });
  app.addHook('onClose', async () => {
    unsubscribe();
    await actuator?.close();
    await poolController?.close();
    await modelStatus?.close();
    config.close();
    await cluster.close();
  });

  await registerRoutes(app, options, bodyLimit);
  return app;
}
