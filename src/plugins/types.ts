/**
 * The NeuroNetes plugin API: the five plugin types of the plugin guide, with its method names in
 * camelCase. Every method may answer synchronously or with a Promise; every call gets a context with
 * an AbortSignal (the plugin's deadline), a logger bound to the plugin, and the plugin's own config.
 */
import type { Logger } from 'pino';
import type { Node, Pod } from '../api/kubernetes.ts';
import type { AgentPool, Model } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import type { CycleState } from './cycle-state.ts';

export type MaybePromise<T> = T | Promise<T>;

export const PLUGIN_TYPES = ['scheduler', 'autoscaler', 'model-loader', 'guardrail', 'metrics-provider'] as const;
export type PluginType = (typeof PLUGIN_TYPES)[number];

/** What every plugin call receives. `config` is the plugin's `config:` block from the ConfigMap. */
export interface PluginContext {
  /** Aborted when the plugin's deadline (its `timeout`, bounded by the request's budget) passes. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * Scheduler plugins also see the cluster as the extender knows it (read-only, precomputed), and the
 * call's CycleState: what `preFilter`/`preScore` work out once is written there and read by every
 * `filter`/`score` of the same call (kube-scheduler's CycleState), never kept in module variables.
 */
export interface SchedulerContext extends PluginContext {
  readonly cluster: ClusterView;
  readonly state: CycleState;
  /**
   * Leaves one line in the trace beside this plugin's pass (filter or score) saying why it answered
   * as it did this call, e.g. why preScore sat out; the last note of a pass wins. Absent in contexts
   * built outside the service's chains.
   */
  readonly note?: (text: string) => void;
}

/** What autoscaler plugins see besides the standard context: the decision's time and replica counts. */
export interface AutoscalerContext extends PluginContext {
  /** The decision's time, ms since the epoch. */
  readonly now: number;
  readonly currentReplicas: number;
  readonly readyReplicas: number;
  /** Kind of each metric type (`additive`: a total shared by replicas; `level`: a per-replica level). */
  readonly metricKinds: ReadonlyMap<string, 'additive' | 'level'>;
  /** Metric types whose targets read as durations ("5m" = 300 s). */
  readonly latencyMetrics: ReadonlySet<string>;
}

interface PluginBase {
  name(): string;
  /** Higher runs first. Optional; the config's `priority` overrides it; default 100. */
  priority?(): number;
}

/**
 * A filter answers true/false as in the guide, or a verdict with a reason. `unresolvable: true`
 * means preemption cannot help (wrong GPU type…): the node goes to FailedAndUnresolvableNodes.
 */
export interface FilterVerdict {
  passed: boolean;
  reason?: string;
  unresolvable?: boolean;
}
export type FilterResult = boolean | FilterVerdict;

/** An allowEviction answer with a reason; a refusal's reason shows beside the veto in the preempt trace. */
export interface EvictionVerdict {
  allowed: boolean;
  reason?: string;
}
export type EvictionResult = boolean | EvictionVerdict;

/**
 * kube-scheduler's proposal for the victim's node: every victim it would evict there, and how many
 * of them it counts as violating a PodDisruptionBudget (`NumPDBViolations`: a count per node, it
 * does not say which victims). kube-scheduler only prefers nodes with fewer violations; it does not refuse them.
 */
export interface EvictionProposal {
  readonly victims: readonly Pod[];
  readonly pdbViolations: number;
}

/**
 * What `preFilter` and `preScore` answer: SKIP when the pod is none of the plugin's business this
 * call, nothing (undefined) to be asked node by node. kube-scheduler's PreFilter/PreScore `Skip`.
 */
export const SKIP = 'skip';
export type PassPlan = typeof SKIP | undefined;

export interface SchedulerPlugin extends PluginBase {
  /**
   * Once per filter call, before any filter(): SKIP when every node would pass (the pool asks nothing
   * this plugin checks), and filter() is asked about no node. A 5,000-node call is 5,000 calls spared.
   */
  preFilter?(ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined): MaybePromise<PassPlan>;
  /** Pool is undefined for pods that belong to no pool (or to a pool the extender does not know). */
  filter?(ctx: SchedulerContext, pod: Pod, node: Node, pool: AgentPool | undefined): MaybePromise<FilterResult>;
  /**
   * Once per prioritize call, before any score(): SKIP when the plugin has no preference among the
   * nodes for this pod; it then gives no score this call and carries no weight in any node's mean.
   */
  preScore?(ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined): MaybePromise<PassPlan>;
  /** 0..100; out-of-range answers are clamped and counted against the plugin. */
  score?(ctx: SchedulerContext, pod: Pod, node: Node, pool: AgentPool | undefined): MaybePromise<number>;
  /**
   * Preemption: may a victim be evicted from `node` to make room for `pod`? Absent means yes. One
   * CycleState per preempt call, shared by every victim of every node the call proposes.
   */
  allowEviction?(ctx: SchedulerContext, pod: Pod, victim: Pod, node: Node, proposal: EvictionProposal): MaybePromise<EvictionResult>;
}

export interface AutoscalerPlugin extends PluginBase {
  /** `metrics` maps metric type (kebab-case, as in AgentPool specs) to its current value. */
  calculateReplicas(ctx: AutoscalerContext, pool: AgentPool, metrics: Readonly<Record<string, number>>): MaybePromise<number>;
  getMetricNames(): string[];
}

export interface ModelLoaderContext extends PluginContext {
  /**
   * Where to put (or remove) the model's files. During load() this is a staging folder, renamed to
   * `<cacheDir>/<model name>` only when the load succeeds; during unload() it is that folder.
   */
  readonly cachePath: string;
}

export interface ModelLoader extends PluginBase {
  canLoad(ctx: PluginContext, model: Model): MaybePromise<boolean>;
  load(ctx: ModelLoaderContext, model: Model, node: string): MaybePromise<void>;
  unload(ctx: ModelLoaderContext, model: Model, node: string): MaybePromise<void>;
}

export interface GuardrailRequest {
  content: string;
  /**
   * Where the text is going: the user's prompt, the model's answer, a tool call's arguments (as
   * JSON), or what a tool returned (which the model will read as if it were trusted).
   */
  direction?: GuardrailDirection;
  pool?: { namespace: string; name: string };
  metadata?: Readonly<Record<string, string>>;
  /**
   * The AgentClass's `threshold` for this guardrail's type, when it sets one: a guardrail that makes
   * several findings drops those below it (the chain also logs a whole result below it).
   */
  threshold?: number;
}

export type GuardrailDirection = 'input' | 'output' | 'tool-call' | 'tool-result';

export type GuardrailAction = 'allow' | 'block' | 'redact' | 'warn' | 'log';

export interface GuardrailResult {
  passed: boolean;
  action: GuardrailAction;
  reason?: string;
  confidence?: number;
  /** `redacted_content` here replaces the content the next guardrails see. */
  metadata?: Readonly<Record<string, string>>;
}

export interface Guardrail extends PluginBase {
  check(ctx: PluginContext, request: GuardrailRequest): MaybePromise<GuardrailResult>;
  getType(): string;
}

export interface MetricsProvider extends PluginBase {
  /** The metric's current value for the pool, or undefined when the source has no data (never 0). */
  getMetric(ctx: PluginContext, pool: AgentPool, metricType: string): MaybePromise<number | undefined>;
  /** Metric types this provider can answer, kebab-case or snake_case. */
  listMetrics(): string[];
}

export interface PluginByType {
  scheduler: SchedulerPlugin;
  autoscaler: AutoscalerPlugin;
  'model-loader': ModelLoader;
  guardrail: Guardrail;
  'metrics-provider': MetricsProvider;
}
