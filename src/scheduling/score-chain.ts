/**
 * The score chain: every scoring plugin scores every node 0..100 (out-of-range answers clamped and
 * counted, errors isolated), and each node's score is the weighted mean over the enforcing plugins
 * that answered; a plugin whose preScore said SKIP answers for no node. Shadow plugins are scored
 * and traced but carry no weight.
 */
import { CycleState } from '../plugins/cycle-state.ts';
import type { Node } from '../api/kubernetes.ts';
import { MAX_EXTENDER_PRIORITY } from '../api/extender.ts';
import type { ServiceConfig } from '../config/schema.ts';
import type { ActivePlugin } from '../plugins/plugin-set.ts';
import { PluginPass, type ChainRuntime, type RequestBudget } from '../plugins/plugin-pass.ts';
import type { SchedulerContext } from '../plugins/types.ts';
import { PassNote, sitsOut, summarizePass, type PluginPassSummary, type SchedulingInput } from './filter-chain.ts';

export const MAX_SCORE = 100;
/** A node no plugin could score sits in the middle, so it neither wins nor loses by default. */
export const NEUTRAL_SCORE = 50;
/** In ScoreOutcome.scores: the plugin gave no score. */
export const NO_SCORE = 0xffff;

export interface ScoreOutcome {
  /** Plugin names, in chain order, that scored. */
  readonly plugins: readonly string[];
  /**
   * Plugin j's score for node i at `scores[j * nodes + i]`, in hundredths, NO_SCORE where it gave
   * none: one flat array of 16-bit cells per call, since a call may carry thousands of nodes and the
   * trace keeps the last hundred calls (a float per cell made 440 KB per 5,000-node call).
   */
  readonly scores: Uint16Array;
  /** Weighted mean per node, 0..100, in the order of the nodes given. */
  readonly totals: Float64Array;
  readonly passes: PluginPassSummary[];
}

/** How a call's 0..100 totals become kube-scheduler's 0..10 integers. */
export type WireScoreMapping = ServiceConfig['scheduler']['wireScores'];

const STEP = (MAX_SCORE / MAX_EXTENDER_PRIORITY) * 100; // one wire point, in hundredths of a total
const hundredths = (score: number): number => Math.round(Math.min(MAX_SCORE, Math.max(0, score)) * 100);

/** The call's best total, in hundredths: what `relative` wire scores are measured from. */
export function bestHundredths(totals: ArrayLike<number>): number {
  let best = 0;
  for (let i = 0; i < totals.length; i++) best = Math.max(best, hundredths(totals[i] as number));
  return best;
}

/**
 * kube-scheduler multiplies extender scores by weight × 10 and adds them to its own plugins' sums, so
 * 0..100 must land on 0..10, as integers; and since it adds them node by node, only the differences
 * between a call's nodes count.
 * - `relative`: the call's best total(s) get 10 and every other node sits below by its gap to the best,
 *   in tens of points, rounded but never less than 1. Whatever the rounding, the plugins' favourite is
 *   strictly ahead, ties stay ties and a lower total never scores higher. Totals are compared in
 *   hundredths, as the trace shows them.
 * - `absolute`: round(total / 10). Comparable across calls, but totals in the same ten-point band tie,
 *   and kube-scheduler breaks a tie at random.
 */
export function toWireScores(totals: ArrayLike<number>, mapping: WireScoreMapping, best: number = bestHundredths(totals)): Uint8Array {
  const wire = new Uint8Array(totals.length);
  if (mapping === 'absolute') {
    for (let i = 0; i < totals.length; i++) wire[i] = Math.round(hundredths(totals[i] as number) / STEP);
    return wire;
  }
  for (let i = 0; i < totals.length; i++) {
    const gap = best - hundredths(totals[i] as number);
    wire[i] = Math.max(0, MAX_EXTENDER_PRIORITY - (gap === 0 ? 0 : Math.max(1, Math.round(gap / STEP))));
  }
  return wire;
}

export async function runScoreChain(
  runtime: ChainRuntime,
  plugins: readonly ActivePlugin<'scheduler'>[],
  input: SchedulingInput,
  nodes: readonly Node[],
  budget: RequestBudget,
): Promise<ScoreOutcome> {
  const scorers = plugins.filter((p) => p.plugin.score !== undefined);
  const weighted = new Float64Array(nodes.length);
  const weights = new Float64Array(nodes.length);
  const scores = new Uint16Array(nodes.length * scorers.length).fill(NO_SCORE);
  const passes: PluginPassSummary[] = [];
  const { pod, pool } = input;
  const state = new CycleState();

  for (let j = 0; j < scorers.length; j++) {
    const active = scorers[j] as ActivePlugin<'scheduler'>;
    const score = active.plugin.score as NonNullable<typeof active.plugin.score>;
    const plugin = active.plugin;
    const noted = new PassNote();
    const pass = new PluginPass<'scheduler', SchedulerContext>(runtime, active, 'score', budget.shareOf(scorers, j), {
      cluster: input.cluster,
      state,
      note: noted.note,
    });
    const weight = active.settings.weight;
    const enforcing = pass.enforcing;
    const row = j * nodes.length;
    let clamped = 0;
    let skipped = false;
    try {
      if ((skipped = await sitsOut(pass, 'preScore', input))) continue;
      const { values, failures } = await pass.callEach(nodes, (ctx, node) => score.call(plugin, ctx, pod, node, pool));
      for (let i = 0; i < nodes.length; i++) {
        const failure = failures?.get(i);
        if (failure !== undefined) {
          pass.check(failure);
          continue;
        }
        let value = values[i] as number;
        if (typeof value !== 'number' || Number.isNaN(value)) {
          pass.check(pass.malformed('score()', value, 'a number 0..100'));
          continue;
        }
        if (value < 0 || value > MAX_SCORE) {
          clamped++;
          value = Math.min(MAX_SCORE, Math.max(0, value));
        }
        scores[row + i] = Math.round(value * 100);
        if (enforcing) {
          weighted[i] = (weighted[i] as number) + weight * value;
          weights[i] = (weights[i] as number) + weight;
        }
      }
    } finally {
      if (clamped > 0) {
        runtime.metrics.pluginScoreClamped.inc({ plugin_name: active.name }, clamped);
        pass.ctx.log.warn({ clamped }, 'plugin returned scores outside 0..100; clamped');
      }
      passes.push(summarizePass(pass, pass.end(), 0, skipped, noted.text));
    }
  }
  const totals = new Float64Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) totals[i] = (weights[i] as number) > 0 ? (weighted[i] as number) / (weights[i] as number) : NEUTRAL_SCORE;
  return { plugins: scorers.map((s) => s.name), scores, totals, passes };
}
