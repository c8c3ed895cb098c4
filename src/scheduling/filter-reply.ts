/**
 * The filter verb's answer, and its wire form. A 5,000-node call may fail thousands of nodes for a
 * handful of reasons; as plain objects, FailedNodes and FailedAndUnresolvableNodes are dictionaries
 * with a hashed key per node, and building then serializing them cost more than the whole plugin
 * chain. Here failed nodes stay in columns (name, index of a shared reason) and `wire()` writes the
 * wire text directly.
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

  /**
   * The wire JSON (ExtenderFilterResult) as UTF-8 bytes. Written straight into one buffer: a string
   * built by appending thousands of entries is a rope whose flattening, when the socket encodes it,
   * cost more than building it; each distinct reason is escaped and encoded once.
   */
  wire(): Buffer {
    const full = this.#args.Nodes != null;
    const head = `{"Nodes":${full ? JSON.stringify({ ...this.#args.Nodes, items: this.#kept }) : 'null'},"NodeNames":${full ? 'null' : JSON.stringify(this.#keptNames)},"FailedNodes":{`;
    const middle = '},"FailedAndUnresolvableNodes":{';
    const tail = `},"Error":${JSON.stringify(this.error)}}`;
    const values = this.#reasons.map((r) => Buffer.from(`:${JSON.stringify(r.wire)}`));
    const keys = this.#failedNames.map(jsonKey);
    let size = Buffer.byteLength(head) + middle.length + Buffer.byteLength(tail);
    // UTF-8 takes at most 3 bytes per UTF-16 unit; plus a comma per entry.
    for (let i = 0; i < keys.length; i++) size += 3 * (keys[i] as string).length + 1 + (values[this.#failedAs[i] as number] as Buffer).length;
    const out = Buffer.allocUnsafe(size);
    let at = out.write(head);
    for (const side of [false, true]) {
      if (side) at += out.write(middle, at);
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const reason = this.#failedAs[i] as number;
        if ((this.#reasons[reason] as FailureReason).unresolvable !== side) continue;
        if (!first) out[at++] = COMMA;
        first = false;
        at += out.write(keys[i] as string, at);
        at += (values[reason] as Buffer).copy(out, at);
      }
    }
    at += out.write(tail, at);
    return out.subarray(0, at);
  }
}

const COMMA = 0x2c;
/** What JSON.stringify would escape: quotes, backslashes, control characters, lone surrogates. */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A node name as a JSON string; Kubernetes names never need escaping, so most skip JSON.stringify. */
function jsonKey(name: string): string {
  return NEEDS_ESCAPING.test(name) ? JSON.stringify(name) : `"${name}"`;
}
