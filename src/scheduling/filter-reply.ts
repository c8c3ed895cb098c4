/**
 * The filter verb's answer, and its wire form. A 5,000-node call may fail thousands of nodes for a
 * handful of reasons; as plain objects, FailedNodes and FailedAndUnresolvableNodes are dictionaries
 * with a hashed key per node, and building then serializing them cost more than the whole plugin
 * chain. Here failed nodes stay in columns (name, index of a shared reason) and `wire()` writes the
 * wire text straight into a buffer.
 */
import type { ExtenderArgs } from '../api/extender.ts';
import { JsonBytes } from '../api/json-bytes.ts';
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

  /** The wire JSON (ExtenderFilterResult) as UTF-8 bytes; each distinct reason is escaped and encoded once. */
  wire(): Buffer {
    const full = this.#args.Nodes != null;
    const reasons = this.#reasons.map((r) => Buffer.from(`:${JSON.stringify(r.wire)}`));
    const out = new JsonBytes(64 * this.#failedNames.length + 32 * this.#keptNames.length + 256)
      .raw(`{"Nodes":${full ? JSON.stringify({ ...this.#args.Nodes, items: this.#kept }) : 'null'},"NodeNames":${full ? 'null' : JSON.stringify(this.#keptNames)}`);
    for (const side of [false, true]) {
      out.raw(side ? ',"FailedAndUnresolvableNodes":{' : ',"FailedNodes":{');
      let first = true;
      for (let i = 0; i < this.#failedNames.length; i++) {
        const reason = this.#failedAs[i] as number;
        if ((this.#reasons[reason] as FailureReason).unresolvable !== side) continue;
        if (!first) out.raw(',');
        first = false;
        out.string(this.#failedNames[i] as string).bytes(reasons[reason] as Buffer);
      }
      out.raw('}');
    }
    return out.raw(`,"Error":${JSON.stringify(this.error)}}`).done();
  }
}
