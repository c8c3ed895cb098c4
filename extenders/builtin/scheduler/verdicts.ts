/** The two ways a built-in filter says no (kube-scheduler's Unschedulable vs UnschedulableAndUnresolvable). */
import type { FilterVerdict } from '../../../src/plugins/types.ts';

export { NEUTRAL_SCORE } from '../../../src/scheduling/score-chain.ts';

/** Preemption cannot help: wrong hardware, wrong labels, over budget. */
export function unresolvable(reason: string): FilterVerdict {
  return { passed: false, reason, unresolvable: true };
}

/** Capacity in use: evicting lower-priority pods could make room. */
export function shortfall(reason: string): FilterVerdict {
  return { passed: false, reason };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
