/**
 * Harnesses that run ONE plugin as the service runs it: registered in a registry, its `config:`
 * checked and defaults filled by the same code as start-up and check-config (a bad config throws the
 * service's ConfigError), each call under a real PluginPass with the plugin's deadline. Unlike the
 * service, which isolates a failing plugin, a harness rejects: with the plugin's own error, its
 * timeout (PluginTimeoutError), or a TypeError/RangeError for an answer of the wrong shape or range.
 */
import { pino } from 'pino';
import type { TObject } from 'typebox';
import type { Node, Pod } from '../api/kubernetes.ts';
import type { AgentPool, Model } from '../api/neuronetes.ts';
import { resolveAutoscalerConfig } from '../autoscaling/autoscaler-config.ts';
import { metricKey } from '../autoscaling/metric-kinds.ts';
import { metricNamesOf } from '../autoscaling/recommendation-chain.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import { ConfigError, resolveConfig } from '../config/parse-config.ts';
import { PLUGIN_LIST_KEYS } from '../config/schema.ts';
import { RESULT_SHAPE, validResult } from '../guardrails/guardrail-chain.ts';
import { SELECTION_BUDGET_MS } from '../models/model-loader-chain.ts';
import { createMetrics } from '../observability/metrics.ts';
import { PluginStats } from '../observability/plugin-stats.ts';
import { CycleState } from '../plugins/cycle-state.ts';
import type { PluginDefinition } from '../plugins/definition.ts';
import { describeAnswer } from '../plugins/plugin-answer.ts';
import { PluginFailure, PluginPass, RequestBudget, type CallOutcome, type ChainRuntime } from '../plugins/plugin-pass.ts';
import { PluginSet, type ActivePlugin } from '../plugins/plugin-set.ts';
import { PluginRegistry } from '../plugins/registry.ts';
import { autoscalerCounts } from '../pools/prewarm.ts';
import type {
  AutoscalerContext,
  GuardrailRequest,
  GuardrailResult,
  ModelLoaderContext,
  PluginByType,
  PluginContext,
  PluginType,
  SchedulerContext,
} from '../plugins/types.ts';
import { runFilterChain, sitsOut } from '../scheduling/filter-chain.ts';
import { resolvePool } from '../scheduling/pool-resolver.ts';
import { MAX_SCORE } from '../scheduling/score-chain.ts';
import { clusterView } from './builders.ts';

/** A plugin as its module exports it: a definition (definePlugin) or a guide-style instance. */
export type PluginUnderTest<T extends PluginType> = PluginDefinition<T, TObject> | PluginByType[T];

/** What every harness accepts besides its own inputs. */
export interface RunOptions {
  /** The plugin's `config:` block as the ConfigMap would give it (validated, defaults filled). */
  config?: Readonly<Record<string, unknown>>;
  /** The plugin's deadline; default its `timeout` setting (its definition's default, else 5s). */
  timeoutMs?: number;
}

const SOURCE = 'neuronetes/testing';
const silent = pino({ level: 'silent' });
/** Metrics and stats the passes record into; nobody reads them here. */
const runtime: ChainRuntime = { metrics: createMetrics({ defaultMetrics: false }), stats: new PluginStats(), log: silent };

function isDefinition<T extends PluginType>(plugin: PluginUnderTest<T>): plugin is PluginDefinition<T, TObject> {
  return typeof (plugin as { create?: unknown }).create === 'function' && typeof (plugin as { name?: unknown }).name === 'string';
}

/** The plugin made and set up by the service's own code, as the only plugin of a config. */
function activate<T extends PluginType>(type: T, plugin: PluginUnderTest<T>, options: RunOptions): ActivePlugin<T> {
  const registry = new PluginRegistry();
  if (isDefinition(plugin)) {
    if (plugin.type !== type) throw new TypeError(`expected a ${type} plugin; "${plugin.name}" is a ${String(plugin.type)} plugin`);
    registry.define(plugin, SOURCE);
  } else {
    registry.register(type, plugin, SOURCE);
  }
  const [entry] = registry.entries(type);
  const settings = {
    name: entry?.name,
    failurePolicy: 'Fail',
    ...(options.config !== undefined ? { config: options.config } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: `${options.timeoutMs}ms` } : {}),
  };
  const set = PluginSet.build(registry, resolveConfig({ [PLUGIN_LIST_KEYS[type]]: [settings] }), silent);
  const active = set.all(type)[0] as ActivePlugin<T>;
  if (!active.settings.enabled) throw new ConfigError(`${type} plugin "${active.name}" is ${active.settings.off ?? 'disabled'}`);
  return active;
}

/** The plugin's own error (or its timeout), not the service's wrapper around it. */
function unwrap(e: unknown): unknown {
  return e instanceof PluginFailure ? e.cause : e;
}

function valueOf<R>(outcome: CallOutcome<R>): R {
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

async function settle<R>(pass: { end(): number }, run: () => Promise<R>): Promise<R> {
  try {
    return await run();
  } catch (e: unknown) {
    throw unwrap(e);
  } finally {
    pass.end();
  }
}

export interface SchedulingRun extends RunOptions {
  pod: Pod;
  /** Default: the pool the pod belongs to (its neuronetes.io/agent-pool label), looked up in `cluster`. */
  pool?: AgentPool;
  /** The candidate nodes, as kube-scheduler sends them. */
  nodes: readonly Node[];
  /** Default: a picture of `nodes` and `pool`. */
  cluster?: ClusterView;
}

export interface FilterAnswer {
  node: string;
  passed: boolean;
  reason?: string;
  unresolvable: boolean;
}

export interface ScoreAnswer {
  node: string;
  score: number;
}

function schedulingInput(run: SchedulingRun): { pod: Pod; pool: AgentPool | undefined; cluster: ClusterView } {
  const cluster = run.cluster ?? clusterView({ nodes: run.nodes, ...(run.pool !== undefined ? { pools: [run.pool] } : {}) });
  if (run.pool !== undefined) return { pod: run.pod, pool: run.pool, cluster };
  const found = resolvePool(run.pod, cluster);
  return { pod: run.pod, pool: found.status === 'found' ? found.pool : undefined, cluster };
}

/**
 * Asks the plugin about every node through the service's filter chain: preFilter first (SKIP passes
 * every node), one CycleState for the run, reasons as kube-scheduler would be told them.
 */
export async function runFilter(plugin: PluginUnderTest<'scheduler'>, run: SchedulingRun): Promise<FilterAnswer[]> {
  const active = activate('scheduler', plugin, run);
  if (active.plugin.filter === undefined) throw new TypeError(`scheduler plugin "${active.name}" has no filter() method`);
  const outcome = await runFilterChain(runtime, [active], schedulingInput(run), run.nodes, new RequestBudget(active.settings.timeoutMs)).catch((e: unknown) => {
    throw unwrap(e);
  });
  return run.nodes.map((node, i) => {
    const rejection = outcome.rejections[outcome.rejectedAs[i] as number];
    const name = node.metadata.name;
    return rejection === undefined
      ? { node: name, passed: true, unresolvable: false }
      : { node: name, passed: false, reason: rejection.reason, unresolvable: rejection.unresolvable };
  });
}

/**
 * Scores every node as the score chain does, preScore first: SKIP answers no score at all (an empty
 * list). A score that is not a finite number in 0..100 rejects with a RangeError naming the node.
 */
export async function runScore(plugin: PluginUnderTest<'scheduler'>, run: SchedulingRun): Promise<ScoreAnswer[]> {
  const active = activate('scheduler', plugin, run);
  const { score } = active.plugin;
  if (score === undefined) throw new TypeError(`scheduler plugin "${active.name}" has no score() method`);
  const input = schedulingInput(run);
  const pass = new PluginPass<'scheduler', SchedulerContext>(runtime, active, 'score', active.settings.timeoutMs, {
    cluster: input.cluster,
    state: new CycleState(),
  });
  return settle(pass, async () => {
    if (await sitsOut(pass, 'preScore', input)) return [];
    const { values, failures } = await pass.callEach(run.nodes, (ctx, node) => score.call(active.plugin, ctx, input.pod, node, input.pool));
    const failure = failures?.values().next().value;
    if (failure !== undefined) throw failure.error;
    return run.nodes.map((node, i) => {
      const value: unknown = values[i];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_SCORE) {
        throw new RangeError(
          `score() for node "${node.metadata.name}" returned ${typeof value === 'number' ? String(value) : describeAnswer(value)}; expected a finite number 0..${MAX_SCORE}`,
        );
      }
      return { node: node.metadata.name, score: value };
    });
  });
}

export interface AutoscalerRun extends RunOptions {
  pool: AgentPool;
  /** Metric type (kebab-case, as in AgentPool specs) → current value. */
  metrics: Readonly<Record<string, number>>;
  /** Default the pool's status.replicas less its warm replicas (as the service counts), else its minReplicas. */
  currentReplicas?: number;
  /** Default the pool's status.readyReplicas less its warm replicas, else currentReplicas. */
  readyReplicas?: number;
  /** The decision's time, ms since the epoch; default now. */
  now?: number;
}

/** The replica count the plugin recommends; rejects one that is not a whole number >= 0. */
export async function runAutoscaler(plugin: PluginUnderTest<'autoscaler'>, run: AutoscalerRun): Promise<number> {
  const active = activate('autoscaler', plugin, run);
  const names = metricNamesOf(active);
  if (names.error !== undefined) throw new TypeError(`autoscaler plugin "${active.name}": ${names.error}`);
  const { metricKinds, latencyMetrics } = resolveAutoscalerConfig(undefined);
  // As the service counts them: the pool's status without its warm replicas.
  const counted = autoscalerCounts(run.pool);
  const currentReplicas = run.currentReplicas ?? counted.replicas ?? run.pool.spec.minReplicas;
  const extras = {
    now: run.now ?? Date.now(),
    currentReplicas,
    readyReplicas: run.readyReplicas ?? counted.readyReplicas ?? currentReplicas,
    metricKinds,
    latencyMetrics,
  };
  const pass = new PluginPass<'autoscaler', AutoscalerContext>(runtime, active, 'calculate-replicas', active.settings.timeoutMs, extras);
  return settle(pass, async () => {
    const value: unknown = valueOf(await pass.call((ctx) => active.plugin.calculateReplicas(ctx, run.pool, run.metrics)));
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new RangeError(`calculateReplicas() returned ${describeAnswer(value)}; expected a whole number of replicas >= 0`);
    }
    return value;
  });
}

export interface GuardrailRun extends RunOptions {
  request: GuardrailRequest;
}

/** The guardrail's own result (before the chain applies the AgentClass's action and threshold). */
export async function runGuardrail(plugin: PluginUnderTest<'guardrail'>, run: GuardrailRun): Promise<GuardrailResult> {
  const active = activate('guardrail', plugin, run);
  const pass = new PluginPass<'guardrail'>(runtime, active, 'check', active.settings.timeoutMs, {});
  return settle(pass, async () => {
    const outcome = await pass.call((ctx) => active.plugin.check(ctx, run.request));
    const value = valueOf(outcome);
    if (!validResult(value)) throw pass.malformed('check()', value, RESULT_SHAPE).error;
    return value;
  });
}

export interface LoaderRun extends RunOptions {
  model: Model;
  op: 'canLoad' | 'load' | 'unload';
  /** The folder load() fills or unload() removes; required for those two. */
  cachePath?: string;
  /** Default 'node-1'. */
  node?: string;
}

/**
 * canLoad() within the service's selection budget (or the loader's timeout, if shorter); load() and
 * unload() within the loader's timeout, with `cachePath` as their folder.
 */
export async function runLoader(plugin: PluginUnderTest<'model-loader'>, run: LoaderRun): Promise<boolean | undefined> {
  const active = activate('model-loader', plugin, run);
  const loader = active.plugin;
  if (run.op === 'canLoad') {
    const pass = new PluginPass<'model-loader'>(runtime, active, 'can-load', SELECTION_BUDGET_MS, {});
    return settle(pass, async () => {
      const value = valueOf(await pass.call((ctx) => loader.canLoad(ctx, run.model)));
      if (typeof value !== 'boolean') throw pass.malformed('canLoad()', value, 'a boolean').error;
      return value;
    });
  }
  const { cachePath, op } = run;
  if (cachePath === undefined) throw new TypeError(`runLoader: ${op}() needs a cachePath`);
  const node = run.node ?? 'node-1';
  const pass = new PluginPass<'model-loader', ModelLoaderContext>(runtime, active, op, Number.POSITIVE_INFINITY, { cachePath });
  return settle(pass, async () => {
    valueOf(await pass.call((ctx) => (op === 'load' ? loader.load(ctx, run.model, node) : loader.unload(ctx, run.model, node))));
    return undefined;
  });
}

export interface MetricsRun extends RunOptions {
  pool: AgentPool;
  /** The metric type asked for; the provider must list it (kebab-case or snake_case), as the service asks no other. */
  metric: string;
  /** Default: a picture holding `pool`. */
  cluster?: ClusterView;
}

/** The metric's value, or undefined when the provider has no data; rejects anything but a finite number >= 0. */
export async function runMetrics(plugin: PluginUnderTest<'metrics-provider'>, run: MetricsRun): Promise<number | undefined> {
  const active = activate('metrics-provider', plugin, run);
  const provider = active.plugin;
  const metric = metricKey(run.metric);
  const listed = provider.listMetrics();
  if (!listed.some((m) => metricKey(m) === metric)) {
    throw new TypeError(
      `metrics provider "${active.name}" does not list "${run.metric}" (it lists ${listed.join(', ') || 'nothing'}); the service would not ask it`,
    );
  }
  const cluster = run.cluster ?? clusterView({ pools: [run.pool] });
  const pass = new PluginPass<'metrics-provider', PluginContext & { cluster: ClusterView }>(runtime, active, 'get-metric', active.settings.timeoutMs, {
    cluster,
  });
  return settle(pass, async () => {
    const value: unknown = valueOf(await pass.call((ctx) => provider.getMetric(ctx, run.pool, metric)));
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw pass.malformed(`getMetric(${metric})`, value, 'a finite number >= 0 or undefined').error;
    }
    return value as number | undefined;
  });
}
