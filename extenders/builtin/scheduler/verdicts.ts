/** The two ways a built-in filter says no (kube-scheduler's Unschedulable vs UnschedulableAndUnresolvable). */
import type { FilterVerdict } from 'neuronetes';

export { NEUTRAL_SCORE, plural } from 'neuronetes';

/** Preemption cannot help: wrong hardware, wrong labels, over budget. */
export function unresolvable(reason: string): FilterVerdict {
  return { passed: false, reason, unresolvable: true };
}

/** Capacity in use: evicting lower-priority pods could make room. */
export function shortfall(reason: string): FilterVerdict {
  return { passed: false, reason };
}

type FactKey = string | number | undefined;

/**
 * A filter's verdicts within one call (one pool) depend on one or two facts of the node (its GPU
 * type, zone, GPUs in use…) that thousands of nodes share. Cached by those facts, a 5,000-node call
 * builds a handful of reasons instead of thousands, and the chain knows a verdict it has already seen
 * by identity. Kept in the call's CycleState; use as `cache.get(a, b) ?? cache.set(verdict)`.
 */
export class VerdictCache {
  readonly #byFacts = new Map<FactKey, Map<FactKey, FilterVerdict>>();
  #slot: Map<FactKey, FilterVerdict> | undefined;
  #b: FactKey;

  get(a?: FactKey, b?: FactKey): FilterVerdict | undefined {
    let slot = this.#byFacts.get(a);
    if (slot === undefined) this.#byFacts.set(a, (slot = new Map()));
    this.#slot = slot;
    this.#b = b;
    return slot.get(b);
  }

  /** Remembers the verdict for the facts of the last get(). */
  set(verdict: FilterVerdict): FilterVerdict {
    this.#slot?.set(this.#b, verdict);
    return verdict;
  }
}
