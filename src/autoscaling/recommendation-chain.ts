/**
 * The autoscaler chain: every enabled plugin that applies to the pool recommends a replica count,
 * each through its own PluginPass, and the combine policy picks one. A plugin applies when it names
 * no metrics or names one the pool scales on.
 */
import type { AgentPool } from '../api/neuronetes.ts';
import type { ActivePlugin } from '../plugins/plugin-set.ts';
import { PluginPass, type ChainRuntime, type RequestBudget } from '../plugins/plugin-pass.ts';
import type { PluginContext } from '../plugins/types.ts';
import type { AutoscalerConfig, CombinePolicy } from './autoscaler-config.ts';
import { metricKey } from './metric-kinds.ts';
import { MAX_REPLICAS } from './replica-calculator.ts';

export type RecommendationStatus = 'recommended' | 'failed' | 'timeout' | 'not-applicable';

export interface RecommendationReport {
  readonly plugin: string;
  readonly priority: number;
  readonly mode: 'enforce' | 'shadow';
  readonly status: RecommendationStatus;
  readonly replicas: number | null;
  readonly metricNames: string[];
  readonly durationMs: number;
  readonly error?: string;
  /** Whether the combine policy took this recommendation. */
  readonly chosen: boolean;
}

/**
 * What autoscaler plugins see besides the standard context: the decision's time and replica counts,
 * and the service's metric settings, so every plugin reads metrics the way the decision reports them.
 */
export interface AutoscalerExtras extends Pick<AutoscalerConfig, 'metricKinds' | 'latencyMetrics'> {
  readonly now: number;
  readonly currentReplicas: number;
  readonly readyReplicas: number;
}
export type AutoscalerContext = PluginContext & AutoscalerExtras;

export interface ChainOutcome {
  readonly reports: RecommendationReport[];
  readonly policy: CombinePolicy;
  readonly replicas: number | null;
  readonly chosen: string | null;
  readonly message: string;
}

/** Metric names a plugin reads; a plugin whose getMetricNames() throws reads none and is reported failed. */
export function metricNamesOf(active: ActivePlugin<'autoscaler'>): { names: string[]; error?: string } {
  try {
    const names = active.plugin.getMetricNames();
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) return { names: [], error: 'getMetricNames() must return an array of strings' };
    return { names: names.map(metricKey) };
  } catch (e: unknown) {
    return { names: [], error: `getMetricNames() threw: ${(e as Error).message}` };
  }
}

export function appliesTo(names: readonly string[], poolMetrics: ReadonlySet<string>): boolean {
  return names.length === 0 || names.some((n) => poolMetrics.has(n));
}

function validReplicas(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  return Math.min(MAX_REPLICAS, Math.ceil(value));
}

function combine(policy: CombinePolicy, candidates: readonly RecommendationReport[]): RecommendationReport | undefined {
  if (candidates.length === 0) return undefined;
  if (policy === 'first') return candidates[0];
  // Ties go to the higher-priority plugin: candidates are in chain order.
  return candidates.reduce((best, c) =>
    (policy === 'max' ? (c.replicas as number) > (best.replicas as number) : (c.replicas as number) < (best.replicas as number)) ? c : best,
  );
}

/** What the chain hands every plugin besides its own context. */
interface ChainCall {
  readonly runtime: ChainRuntime;
  readonly pool: AgentPool;
  readonly poolMetrics: ReadonlySet<string>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly budget: RequestBudget;
  readonly extras: AutoscalerExtras;
}

async function recommend(call: ChainCall, active: ActivePlugin<'autoscaler'>): Promise<RecommendationReport> {
  const { names, error } = metricNamesOf(active);
  const base = { plugin: active.name, priority: active.priority, mode: active.settings.mode, metricNames: names, chosen: false };
  if (error !== undefined) return { ...base, status: 'failed', replicas: null, durationMs: 0, error };
  if (!appliesTo(names, call.poolMetrics)) return { ...base, status: 'not-applicable', replicas: null, durationMs: 0 };
  const pass = new PluginPass<'autoscaler', AutoscalerContext>(call.runtime, active, 'calculate-replicas', call.budget.remainingMs, call.extras);
  try {
    let outcome = await pass.call((ctx) => active.plugin.calculateReplicas(ctx, call.pool, call.metrics));
    const replicas = outcome.ok ? validReplicas(outcome.value) : undefined;
    if (outcome.ok && replicas === undefined) {
      outcome = pass.malformed('calculateReplicas()', outcome.value, 'a finite number >= 0');
    }
    pass.check(outcome);
    const durationMs = Math.round(pass.elapsedMs * 1000) / 1000;
    if (!outcome.ok) return { ...base, status: outcome.kind === 'timeout' ? 'timeout' : 'failed', replicas: null, durationMs, error: outcome.error.message };
    return { ...base, status: 'recommended', replicas: replicas as number, durationMs };
  } finally {
    pass.end();
  }
}

function combineMessage(policy: CombinePolicy, candidates: readonly RecommendationReport[], chosen: RecommendationReport | undefined): string {
  if (chosen === undefined) return 'no enforcing autoscaler plugin recommended anything';
  if (candidates.length === 1) return `${chosen.plugin} is the only recommendation`;
  return `${policy} of ${candidates.map((c) => `${c.plugin}=${c.replicas}`).join(', ')} → ${chosen.plugin}`;
}

export async function runAutoscalerChain(
  runtime: ChainRuntime,
  plugins: readonly ActivePlugin<'autoscaler'>[],
  pool: AgentPool,
  poolMetrics: ReadonlySet<string>,
  metrics: Readonly<Record<string, number>>,
  policy: CombinePolicy,
  budget: RequestBudget,
  extras: AutoscalerExtras,
): Promise<ChainOutcome> {
  const call: ChainCall = { runtime, pool, poolMetrics, metrics, budget, extras };
  const reports = await Promise.all(plugins.map((active) => recommend(call, active)));
  const candidates = reports.filter((r) => r.status === 'recommended' && r.mode === 'enforce');
  const chosen = combine(policy, candidates);
  const final = reports.map((r) => (r === chosen ? { ...r, chosen: true } : r));
  return { reports: final, policy, replicas: chosen?.replicas ?? null, chosen: chosen?.plugin ?? null, message: combineMessage(policy, candidates, chosen) };
}
