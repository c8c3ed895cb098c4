/**
 * The filter verb's answer, and its wire form. A 5,000-node call may fail thousands of nodes for a
 * handful of reasons; as plain objects, FailedNodes and FailedAndUnresolvableNodes are dictionaries
 * with a hashed key per node, and building then serializing them cost more than the whole plugin
 * chain. Here failed nodes stay in columns (name, index of a shared reason) and `json()` writes the
 * wire text directly, escaping each distinct reason once.
 */
import type { ExtenderArgs } from '../api/extender.ts';
import type { Node } from '../api/kubernetes.ts';

/** A reason shared by many failed nodes: the text kube-scheduler is sent, and where it goes. */
export interface FailureReason {
  readonly wire: string;
  /** FailedAndUnresolvableNodes (preemption cannot help) rather than FailedNodes. */
  readonly unresolvable: boolean;
}

export class FilterReply {
  readonly #args: ExtenderArgs;
  readonly #kept: readonly Node[];
  readonly #keptNames: readonly string[];
  readonly #failedNames: string[] = [];
  readonly #failedAs: number[] = [];
  readonly #reasons: FailureReason[] = [];
  readonly error: string;

  /** `args`: the request, whose mode (names or full nodes) the reply answers in. */
  constructor(args: ExtenderArgs, kept: readonly Node[], keptNames: readonly string[], error = '') {
    this.#args = args;
    this.#kept = kept;
    this.#keptNames = keptNames;
    this.error = error;
  }

  get keptCount(): number {
    return this.#keptNames.length;
  }

  /** Registers a reason; nodes failed for it refer to the index returned. */
  reason(reason: FailureReason): number {
    return this.#reasons.push(reason) - 1;
  }

  fail(name: string, reason: number): void {
    this.#failedNames.push(name);
    this.#failedAs.push(reason);
  }

  /** The wire JSON (ExtenderFilterResult), written without building the dictionaries. */
  json(): string {
    const full = this.#args.Nodes != null;
    const nodes = full ? JSON.stringify({ ...this.#args.Nodes, items: this.#kept }) : 'null';
    const names = full ? 'null' : JSON.stringify(this.#keptNames);
    const escaped = this.#reasons.map((r) => JSON.stringify(r.wire));
    const maps = ['', ''];
    for (let i = 0; i < this.#failedNames.length; i++) {
      const at = this.#failedAs[i] as number;
      const side = (this.#reasons[at] as FailureReason).unresolvable ? 1 : 0;
      maps[side] += `${maps[side] === '' ? '' : ','}${JSON.stringify(this.#failedNames[i])}:${escaped[at] as string}`;
    }
    return `{"Nodes":${nodes},"NodeNames":${names},"FailedNodes":{${maps[0]}},"FailedAndUnresolvableNodes":{${maps[1]}},"Error":${JSON.stringify(this.error)}}`;
  }
}
