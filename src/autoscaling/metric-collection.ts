/**
 * Fetches the metrics a decision needs that the caller did not give, through the MetricsProvider
 * chain: the first enforcing provider (by priority) whose listMetrics() names a metric answers for
 * it; `undefined` means the source has no data (missing, never 0); an error or timeout fails the
 * metric with the reason. One PluginPass per provider, under the decision's budget.
 */
import type { AgentPool } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import type { ActivePlugin } from '../plugins/plugin-set.ts';
import { PluginPass, type ChainRuntime, type RequestBudget } from '../plugins/plugin-pass.ts';
import type { PluginContext } from '../plugins/types.ts';
import { metricKey } from './metric-kinds.ts';

export type ReadingStatus = 'ok' | 'missing' | 'failed';

export interface MetricReading {
  readonly status: ReadingStatus;
  readonly value?: number;
  /** `request` for values the caller gave, else the provider's name; null when nobody answers. */
  readonly source: string | null;
  readonly reason?: string;
}

export interface ProviderPassSummary {
  readonly plugin: string;
  readonly metrics: string[];
  readonly durationMs: number;
  readonly errors: number;
  readonly timeouts: number;
}

/** What metrics providers see besides the standard context: the cluster (for pods, say). */
export interface MetricsProviderExtras {
  readonly cluster: ClusterView;
}

/** Metric values in a request that no part of the decision reads, or that name one metric twice. */
export class MetricInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricInputError';
  }
}

/**
 * The request's metric values by metric key. A key the pool's metrics and its autoscaler plugins do
 * not read (a typo such as `queue-dept`) would be dropped silently: it is refused, naming what is read.
 */
export function givenMetrics(values: Readonly<Record<string, number>> | undefined, wanted: ReadonlySet<string>): Map<string, number> {
  const given = new Map<string, number>();
  for (const [name, value] of Object.entries(values ?? {})) {
    const key = metricKey(name);
    if (!wanted.has(key)) {
      const allowed = wanted.size === 0 ? 'no metrics' : [...wanted].sort().join(', ');
      throw new MetricInputError(`metrics: unknown metric ${JSON.stringify(name)}; this pool reads ${allowed}`);
    }
    if (given.has(key)) throw new MetricInputError(`metrics: ${JSON.stringify(name)} names ${key} a second time`);
    given.set(key, value);
  }
  return given;
}

function lists(provider: ActivePlugin<'metrics-provider'>, type: string): boolean {
  try {
    return provider.plugin.listMetrics().some((m) => metricKey(m) === type);
  } catch {
    return false;
  }
}

type Routes = Map<ActivePlugin<'metrics-provider'>, string[]>;

/** Given values are read as given; every other metric goes to the first enforcing provider that lists it. */
function route(
  providers: readonly ActivePlugin<'metrics-provider'>[],
  types: readonly string[],
  given: ReadonlyMap<string, number>,
  readings: Map<string, MetricReading>,
): Routes {
  const byProvider: Routes = new Map();
  const answering = providers.filter((p) => p.settings.mode === 'enforce');
  for (const type of types) {
    const value = given.get(type);
    if (value !== undefined) {
      readings.set(type, { status: 'ok', value, source: 'request' });
      continue;
    }
    const provider = answering.find((p) => lists(p, type));
    if (provider === undefined) readings.set(type, { status: 'missing', source: null, reason: 'no metrics provider lists this metric' });
    else byProvider.set(provider, [...(byProvider.get(provider) ?? []), type]);
  }
  return byProvider;
}

/** Asks one provider for its metrics, in one PluginPass, and records a reading per metric. */
async function askProvider(
  runtime: ChainRuntime,
  active: ActivePlugin<'metrics-provider'>,
  wanted: readonly string[],
  pool: AgentPool,
  budget: RequestBudget,
  cluster: ClusterView,
  readings: Map<string, MetricReading>,
): Promise<ProviderPassSummary> {
  const pass = new PluginPass<'metrics-provider', PluginContext & MetricsProviderExtras>(runtime, active, 'get-metric', budget.remainingMs, { cluster });
  try {
    await Promise.all(
      wanted.map(async (type) => {
        let outcome = await pass.call((ctx) => active.plugin.getMetric(ctx, pool, type));
        if (outcome.ok && outcome.value !== undefined && (typeof outcome.value !== 'number' || !Number.isFinite(outcome.value) || outcome.value < 0)) {
          outcome = pass.malformed(`getMetric(${type})`, outcome.value, 'a finite number >= 0 or undefined');
        }
        pass.check(outcome);
        if (!outcome.ok)
          readings.set(type, {
            status: 'failed',
            source: active.name,
            reason: `${outcome.kind === 'timeout' ? 'timed out' : 'failed'}: ${outcome.error.message}`,
          });
        else if (outcome.value === undefined)
          readings.set(type, { status: 'missing', source: active.name, reason: `${active.name} has no data for this metric` });
        else readings.set(type, { status: 'ok', value: outcome.value, source: active.name });
      }),
    );
  } finally {
    pass.end();
  }
  return { plugin: active.name, metrics: [...wanted], durationMs: Math.round(pass.elapsedMs * 1000) / 1000, errors: pass.errors, timeouts: pass.timeouts };
}

export async function collectMetrics(
  runtime: ChainRuntime,
  providers: readonly ActivePlugin<'metrics-provider'>[],
  pool: AgentPool,
  types: readonly string[],
  given: ReadonlyMap<string, number>,
  budget: RequestBudget,
  cluster: ClusterView,
): Promise<{ readings: Map<string, MetricReading>; passes: ProviderPassSummary[] }> {
  const readings = new Map<string, MetricReading>();
  const byProvider = route(providers, types, given, readings);
  const passes = await Promise.all([...byProvider].map(([active, wanted]) => askProvider(runtime, active, wanted, pool, budget, cluster, readings)));
  return { readings, passes };
}
