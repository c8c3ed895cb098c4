/**
 * The ModelLoader chain: the first enabled loader, by priority, whose canLoad() is true handles the
 * model. Shadow loaders are asked and traced but never chosen: a load writes to disk. Every call runs
 * under a PluginPass: canLoad() within a short selection budget, load()/unload() within the
 * loader's own `timeout` (model downloads need minutes: configure it).
 */
import type { Model } from '../api/neuronetes.ts';
import type { ActivePlugin } from '../plugins/plugin-set.ts';
import { PluginPass, RequestBudget, type CallOutcome, type ChainRuntime } from '../plugins/plugin-pass.ts';
import type { ModelLoaderContext } from '../plugins/types.ts';

/** canLoad() looks at a URI; it gets this long, together, for all loaders. */
export const SELECTION_BUDGET_MS = 2000;

export interface LoaderConsideration {
  readonly plugin: string;
  readonly mode: 'enforce' | 'shadow';
  readonly canLoad: boolean | null;
  readonly durationMs: number;
  readonly failure?: string;
}

export interface LoaderSelection {
  readonly chosen: ActivePlugin<'model-loader'> | undefined;
  readonly considered: readonly LoaderConsideration[];
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function describeFailure(outcome: CallOutcome<unknown>): string | undefined {
  return outcome.ok ? undefined : `${outcome.kind}: ${outcome.error.message}`;
}

/** Throws PluginFailure when a `failurePolicy: Fail` loader's canLoad() fails. */
export async function chooseLoader(runtime: ChainRuntime, loaders: readonly ActivePlugin<'model-loader'>[], model: Model): Promise<LoaderSelection> {
  const budget = new RequestBudget(SELECTION_BUDGET_MS);
  const considered: LoaderConsideration[] = [];
  for (const [i, active] of loaders.entries()) {
    // Equal shares: a loader's `timeout` is for load() (minutes), so it says nothing of what canLoad() needs.
    const pass = new PluginPass<'model-loader'>(runtime, active, 'can-load', budget.remainingMs / (loaders.length - i), {});
    let outcome: CallOutcome<boolean>;
    try {
      outcome = await pass.call((ctx) => active.plugin.canLoad(ctx, model));
      if (outcome.ok && typeof outcome.value !== 'boolean') {
        outcome = pass.malformed('canLoad()', outcome.value, 'a boolean');
      }
      pass.check(outcome);
    } finally {
      pass.end();
    }
    const failure = describeFailure(outcome);
    const canLoad = outcome.ok ? outcome.value : null;
    considered.push({
      plugin: active.name,
      mode: active.settings.mode,
      canLoad,
      durationMs: round3(pass.elapsedMs),
      ...(failure !== undefined ? { failure } : {}),
    });
    if (canLoad === true && pass.enforcing) return { chosen: active, considered };
  }
  return { chosen: undefined, considered };
}

export interface LoaderRun {
  readonly outcome: CallOutcome<void>;
  readonly durationMs: number;
  /**
   * Settles once the loader's own promise has: after a timeout the chain answers at once, but the
   * loader may still be writing (until it notices its aborted signal), so callers clean up after it.
   */
  readonly settled: Promise<void>;
}

/** Runs load() or unload() of the chosen loader with `cachePath` as its target folder. */
export async function runLoader(
  runtime: ChainRuntime,
  active: ActivePlugin<'model-loader'>,
  op: 'load' | 'unload',
  model: Model,
  node: string,
  cachePath: string,
): Promise<LoaderRun> {
  const pass = new PluginPass<'model-loader', ModelLoaderContext>(runtime, active, op, Number.POSITIVE_INFINITY, { cachePath });
  let settled: Promise<void> = Promise.resolve();
  let outcome: CallOutcome<void>;
  try {
    outcome = await pass.call((ctx) => {
      const result = op === 'load' ? active.plugin.load(ctx, model, node) : active.plugin.unload(ctx, model, node);
      settled = Promise.resolve(result).then(
        () => undefined,
        () => undefined,
      );
      return result;
    });
  } finally {
    pass.end();
  }
  return { outcome, durationMs: round3(pass.elapsedMs), settled };
}
