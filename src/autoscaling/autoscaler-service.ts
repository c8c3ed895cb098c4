/**
 * One autoscaling decision for one pool: resolve the pool, read its metrics (given or through the
 * MetricsProvider chain), ask the autoscaler chain, run the stages, and — unless it is a dry run —
 * record the recommendation, the trace and the metrics. Decisions for one pool are serialized.
 */
import { NotFoundError } from '../api/errors.ts';
import type { AgentPool } from '../api/neuronetes.ts';
import type { TraceEntry } from '../observability/trace-buffer.ts';
import { autoscalerCounts, servingReplicas } from '../pools/prewarm.ts';
import type { ChainServiceDeps } from '../plugins/chain-service-deps.ts';
import { RequestBudget } from '../plugins/plugin-pass.ts';
import type { ActivePlugin } from '../plugins/plugin-set.ts';
import { emptyState, type AutoscalerStateStore, type PoolAutoscalerState, type PoolRef } from './autoscaler-state.ts';
import { isFresh, type Decision, type MetricReport } from './decision.ts';
import { runPipeline, type PipelineResult } from './decision-pipeline.ts';
import { capacityStage, skippedCapacity, withCapacity, type CapacityAnswer } from './capacity-stage.ts';
import { countPlaceable } from '../scheduling/placement-count.ts';
import { collectMetrics, givenMetrics, type ProviderPassSummary } from './metric-collection.ts';
import { metricKey } from './metric-kinds.ts';
import { reportMetrics } from './metric-reports.ts';
import { PoolLock } from './pool-lock.ts';
import { metricNamesOf, appliesTo, runAutoscalerChain, type ChainOutcome } from './recommendation-chain.ts';
import type { ReplicaInputs } from './replica-calculator.ts';
import { boundedDuration, eventHorizonMs, PoolSpecError, resolveBehavior, type BehaviorDefaults, type ResolvedBehavior } from './scaling-rules.ts';

export type PoolInput = PoolRef | AgentPool;

export interface DecideRequest {
  readonly pool: PoolInput;
  readonly currentReplicas?: number;
  /** Metric type (kebab or snake case) → value; the rest come from the MetricsProvider chain. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Epoch ms: replays time. Defaults to the clock. */
  readonly now?: number;
  /** Compute, record nothing. */
  readonly dryRun?: boolean;
}

export interface DecideOptions {
  /** Another history (a simulation's); defaults to the service's store. */
  readonly store?: AutoscalerStateStore;
  /** Ask the MetricsProvider chain for metrics the request does not give (default true). */
  readonly fetchMetrics?: boolean;
  /** Record the trace and the Prometheus metrics (default true; never for a dry run). */
  readonly observe?: boolean;
  /** Count what the cluster can place before a scale-up (default true; simulations replay metrics, not the cluster). */
  readonly checkCapacity?: boolean;
}

export interface AutoscalerTrace extends TraceEntry, Decision {}

export interface AutoscalerServiceDeps extends ChainServiceDeps<AutoscalerTrace> {
  readonly store: AutoscalerStateStore;
  readonly clock?: () => number;
}

/** A pool whose spec the autoscaler cannot use (a duration out of range, say): the pool's fault, not the service's. */
export class InvalidPoolError extends Error {
  constructor(ref: PoolRef, cause: PoolSpecError) {
    super(`AgentPool ${ref.namespace}/${ref.name}: ${cause.message}`, { cause });
    this.name = 'InvalidPoolError';
  }
}

interface PoolRules {
  readonly behavior: ResolvedBehavior;
  /** Per spec metric, its averaging window in ms (undefined: none). */
  readonly windowsMs: readonly (number | undefined)[];
}

/** Everything a decision reads from the pool's durations, checked before anything runs. */
function rulesOf(pool: AgentPool, ref: PoolRef, defaults: BehaviorDefaults): PoolRules {
  const autoscaling = pool.spec.autoscaling;
  try {
    return {
      behavior: resolveBehavior(autoscaling, defaults),
      windowsMs: (autoscaling?.metrics ?? []).map((m, i) =>
        m.averagingWindow === undefined ? undefined : boundedDuration(`autoscaling.metrics[${i}].averagingWindow`, m.averagingWindow, 'averagingWindow'),
      ),
    };
  } catch (e: unknown) {
    if (e instanceof PoolSpecError) throw new InvalidPoolError(ref, e);
    throw e;
  }
}

/**
 * When a scale the service observes happened. HPA stamps an event when it rescales; when the change
 * is exactly what this service's last recorded decision asked for (the actuator, KEDA's scaler or a
 * caller applied it), it happened at that decision, not later when the next one notices it.
 */
function scaleEventTime(last: PoolAutoscalerState['lastDecision'], from: number, to: number, now: number): number {
  return last !== undefined && last.currentReplicas === from && last.desiredReplicas === to && last.time <= now ? last.time : now;
}

function isInlinePool(p: PoolInput): p is AgentPool {
  return 'spec' in p;
}

function refOf(pool: AgentPool): PoolRef {
  return { namespace: pool.metadata.namespace ?? 'default', name: pool.metadata.name };
}

/**
 * The pool's state as this decision starts: a copy of what was stored, with a scale seen since the
 * last decision recorded as an event. As HPA (recordInitialRecommendation), a pool seen first records
 * its current size, so it never scales down inside the scale-down window on no history.
 */
function observedState(loaded: PoolAutoscalerState | undefined, current: number, now: number): PoolAutoscalerState {
  const state = loaded === undefined ? emptyState() : structuredClone(loaded);
  if (loaded === undefined) state.recommendations.push({ time: now, replicas: current });
  else if (state.lastObservedReplicas !== null && state.lastObservedReplicas !== current) {
    const from = state.lastObservedReplicas;
    state.scaleEvents.push({ time: scaleEventTime(state.lastDecision, from, current, now), change: current - from });
  }
  state.lastObservedReplicas = current;
  return state;
}

/** The pool's metrics, plus those of every autoscaler plugin that applies to the pool. */
function wantedMetrics(poolTypes: ReadonlySet<string>, autoscalers: readonly ActivePlugin<'autoscaler'>[]): Set<string> {
  const wanted = new Set(poolTypes);
  for (const a of autoscalers) {
    const { names } = metricNamesOf(a);
    if (appliesTo(names, poolTypes)) for (const n of names) wanted.add(n);
  }
  return wanted;
}

/** The later of the pool status's lastScaleTime and the last scale event the service saw. */
function lastScaleTimeOf(pool: AgentPool, state: PoolAutoscalerState): number | null {
  const lastEvent = state.scaleEvents.at(-1)?.time ?? null;
  const statusScale = pool.status?.lastScaleTime !== undefined ? Date.parse(pool.status.lastScaleTime) : Number.NaN;
  return Number.isFinite(statusScale) ? Math.max(statusScale, lastEvent ?? -Infinity) : lastEvent;
}

/** Records the decision in the state and forgets what no rule looks back far enough to need. */
function recordOutcome(state: PoolAutoscalerState, result: PipelineResult, behavior: ResolvedBehavior, now: number, current: number): void {
  if (result.record !== null) state.recommendations.push({ time: now, replicas: result.record });
  state.lastDecision = { time: now, currentReplicas: current, desiredReplicas: result.desired };
  const keepRecs = Math.max(behavior.scaleUp.stabilizationWindowMs, behavior.scaleDown.stabilizationWindowMs);
  state.recommendations = state.recommendations.filter((r) => r.time > now - keepRecs || r.time === now);
  const keepEvents = eventHorizonMs(behavior);
  state.scaleEvents = state.scaleEvents.filter((e) => e.time > now - keepEvents);
}

interface DecisionParts {
  readonly ref: PoolRef;
  readonly now: number;
  readonly dryRun: boolean;
  readonly current: number;
  readonly metrics: MetricReport[];
  readonly passes: ProviderPassSummary[];
  readonly chain: ChainOutcome;
  readonly result: PipelineResult;
  readonly capacity: CapacityAnswer;
}

function decisionOf(p: DecisionParts): Decision {
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
  const { chain, result } = p;
  return {
    pool: p.ref,
    time: new Date(p.now).toISOString(),
    dryRun: p.dryRun,
    currentReplicas: p.current,
    desiredReplicas: result.desired,
    placeableReplicas: p.capacity.placeable,
    shortfall: p.capacity.shortfall,
    reason: result.reason,
    message: result.message,
    metrics: p.metrics,
    providers: p.passes,
    recommendations: chain.reports,
    combine: { policy: chain.policy, chosen: chain.chosen, replicas: chain.replicas, message: chain.message },
    stages: result.stages,
    nextScaleUpAt: iso(result.nextScaleUpAt),
    nextScaleDownAt: iso(result.nextScaleDownAt),
  };
}

export class AutoscalerService {
  readonly #deps: AutoscalerServiceDeps;
  readonly #lock = new PoolLock();

  constructor(deps: AutoscalerServiceDeps) {
    this.#deps = deps;
  }

  resolvePool(input: PoolInput): AgentPool {
    if (isInlinePool(input)) return input;
    const pool = this.#deps.cluster.view().pool(input.namespace, input.name);
    if (pool === undefined) throw new NotFoundError('AgentPool', `${input.namespace}/${input.name}`);
    return pool;
  }

  async decide(request: DecideRequest, options: DecideOptions = {}): Promise<Decision> {
    const pool = this.resolvePool(request.pool);
    const ref = refOf(pool);
    const store = options.store ?? this.#deps.store;
    return this.#lock.run(`${ref.namespace}/${ref.name}`, async () => {
      const started = performance.now();
      const loaded = await store.load(ref);
      const { decision, state } = await this.#compute(pool, ref, request, loaded, options);
      if (request.dryRun !== true) {
        await store.save(ref, state);
        if (options.observe ?? true) this.#observe(decision, (performance.now() - started) / 1000);
      }
      return decision;
    });
  }

  async #compute(
    pool: AgentPool,
    ref: PoolRef,
    request: DecideRequest,
    loaded: PoolAutoscalerState | undefined,
    options: DecideOptions,
  ): Promise<{ decision: Decision; state: PoolAutoscalerState }> {
    const settings = this.#deps.config().autoscaler;
    const now = request.now ?? (this.#deps.clock ?? Date.now)();
    const spec = pool.spec;
    // Without the pool's warm replicas (spec.prewarmPercent): counted, they would be warmed again on top.
    const counted = autoscalerCounts(pool);
    const current = request.currentReplicas ?? counted.replicas ?? servingReplicas(pool);
    const ready = counted.readyReplicas ?? current;
    const { behavior, windowsMs } = rulesOf(pool, ref, settings.behavior);
    const state = observedState(loaded, current, now);

    const specMetrics = spec.autoscaling?.metrics ?? [];
    const poolTypes = new Set(specMetrics.map((m) => metricKey(m.type)));
    const plugins = this.#deps.plugins();
    const autoscalers = plugins.enabled('autoscaler');
    const wanted = wantedMetrics(poolTypes, autoscalers);
    const budget = new RequestBudget(settings.requestBudgetMs);
    const providers = (options.fetchMetrics ?? true) ? plugins.enabled('metrics-provider') : [];
    const { readings, passes } = await collectMetrics(
      this.#deps.runtime,
      providers,
      pool,
      [...wanted],
      givenMetrics(request.metrics, wanted),
      budget,
      this.#deps.cluster.view(),
    );

    const inputs: ReplicaInputs = {
      currentReplicas: current,
      readyReplicas: ready,
      metricKinds: settings.metricKinds,
      latencyMetrics: settings.latencyMetrics,
    };
    const { reports: metrics, values } = reportMetrics(specMetrics, windowsMs, readings, state.samples, now, inputs);
    // The plugins also see the metrics they asked for beyond the pool's own.
    for (const [type, r] of readings) if (!poolTypes.has(type) && r.value !== undefined) values[type] = r.value;

    const poolForPlugins: AgentPool = { ...pool, status: { ...pool.status, replicas: current, readyReplicas: ready } };
    const chain = await runAutoscalerChain(this.#deps.runtime, autoscalers, poolForPlugins, poolTypes, values, settings.combinePolicy, budget, {
      now,
      ...inputs,
    });

    const staged = runPipeline({
      now,
      current,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      recommended: chain.replicas,
      metrics,
      behavior,
      history: state.recommendations,
      events: state.scaleEvents,
      lastScaleTime: lastScaleTimeOf(pool, state),
    });
    const capacity = await this.#capacity(pool, current, staged.desired, options.checkCapacity ?? true, budget);
    const result = withCapacity(staged, capacity);
    recordOutcome(state, result, behavior, now, current);

    const decision = decisionOf({ ref, now, dryRun: request.dryRun === true, current, metrics, passes, chain, result, capacity });
    return { decision, state };
  }

  /** The capacity stage: scale-ups only, counted by the scheduler plugins in force, within what is left of the decision's budget. */
  async #capacity(pool: AgentPool, current: number, desired: number, check: boolean, budget: RequestBudget): Promise<CapacityAnswer> {
    if (desired <= current) return skippedCapacity(desired, 'not scaling up: only scale-ups are checked against capacity');
    if (!check) return skippedCapacity(desired, 'capacity is not checked here (simulation)');
    const plugins = this.#deps.plugins().enabled('scheduler');
    const count = await countPlaceable(this.#deps.runtime, plugins, { pool, more: desired - current, view: this.#deps.cluster.view() }, budget);
    return capacityStage(desired, current, count, pool);
  }

  #observe(decision: Decision, seconds: number): void {
    const m = this.#deps.runtime.metrics;
    const pool = `${decision.pool.namespace}/${decision.pool.name}`;
    m.autoscalerDesiredReplicas.set({ pool }, decision.desiredReplicas);
    m.autoscalerCurrentReplicas.set({ pool }, decision.currentReplicas);
    m.autoscalerDecisions.inc({ pool, reason: decision.reason });
    m.autoscalerDecisionDuration.observe(seconds);
    for (const metric of decision.metrics) {
      if (metric.value !== null) m.autoscalerMetricValue.set({ pool, metric: metric.type }, metric.value);
      if (!isFresh(metric)) m.autoscalerMetricUnavailable.inc({ pool, metric: metric.type, status: metric.status });
    }
    const trace = this.#deps.trace;
    trace.push({ ...decision, id: trace.nextId(), subject: pool });
  }
}
