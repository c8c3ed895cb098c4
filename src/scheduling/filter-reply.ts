/**
 * The filter verb's answer, and its wire form. A 5,000-node call may fail thousands of nodes for a
 * handful of reasons; as plain objects, FailedNodes and FailedAndUnresolvableNodes are dictionaries
 * with a hashed key per node, and building then serializing them cost more than the whole plugin
 * chain. Here the reply reads the chain's verdicts as they are (per candidate, the index of a shared
 * reason) and `wire()` writes the wire text straight into a buffer.
 */
import type { ExtenderArgs } from '../api/extender.ts';
import { JsonBytes } from '../api/json-bytes.ts';
import type { ReplyBuffers } from '../api/reply-buffers.ts';
import type { Node } from '../api/kubernetes.ts';

/** A reason shared by many failed nodes: the text kube-scheduler is sent, and where it goes. */
export interface FailureReason {
  readonly wire: string;
  /** FailedAndUnresolvableNodes (preemption cannot help) rather than FailedNodes. */
  readonly unresolvable: boolean;
}

/** What became of each candidate the cache knows: kept, or failed for one of a few reasons. */
export interface FilterVerdicts<R extends FailureReason = FailureReason> {
  readonly names: readonly string[];
  /** Per name: its index in `rejections`, or NOT_REJECTED where it was kept. */
  readonly rejectedAs: Int32Array;
  readonly rejections: readonly R[];
}

export const NOT_REJECTED = -1;

export interface FilterReplyParts {
  /** The request, whose mode (names or full nodes) the reply answers in. */
  readonly args: ExtenderArgs;
  /** The Node objects kept, for full-node mode. */
  readonly kept: readonly Node[];
  readonly verdicts: FilterVerdicts;
  /** Names the cache does not know, each failed with its own reason. */
  readonly unknown: readonly string[];
  readonly unknownReason: (name: string) => string;
  readonly error?: string;
}

export class FilterReply {
  readonly #parts: FilterReplyParts;
  readonly error: string;

  constructor(parts: FilterReplyParts) {
    this.#parts = parts;
    this.error = parts.error ?? '';
  }

  get keptCount(): number {
    return this.#parts.kept.length;
  }

  /**
   * The wire JSON (ExtenderFilterResult) as UTF-8 bytes; each distinct reason is escaped and encoded
   * once. With `pool`, written into one of its buffers, to be given back once the reply is sent.
   */
  wire(pool?: ReplyBuffers): Buffer {
    const { args, kept, verdicts, unknown, unknownReason } = this.#parts;
    const { names, rejectedAs, rejections } = verdicts;
    const list = args.Nodes;
    const full = list != null;
    const keptNames = full ? [] : names.filter((_, i) => rejectedAs[i] === NOT_REJECTED);
    const reasons = rejections.map((r) => Buffer.from(`:${JSON.stringify(r.wire)}`));
    const out = new JsonBytes(64 * (names.length + unknown.length) + 256, pool).raw('{"Nodes":');
    if (full) writeNodeList(out, list, kept);
    else out.raw('null');
    out.raw(`,"NodeNames":${full ? 'null' : JSON.stringify(keptNames)}`);
    for (const side of [false, true]) {
      out.raw(side ? ',"FailedAndUnresolvableNodes":{' : ',"FailedNodes":{');
      let first = true;
      const entry = (name: string): JsonBytes => {
        if (!first) out.raw(',');
        first = false;
        return out.string(name);
      };
      for (let i = 0; i < names.length; i++) {
        const r = rejectedAs[i] as number;
        if (r !== NOT_REJECTED && (rejections[r] as FailureReason).unresolvable === side) entry(names[i] as string).bytes(reasons[r] as Buffer);
      }
      if (!side) for (const name of unknown) entry(name).raw(':').string(unknownReason(name));
      out.raw('}');
    }
    return out.raw(`,"Error":${JSON.stringify(this.error)}}`).done();
  }
}

/**
 * The kept Nodes as a NodeList, one node at a time: a single JSON.stringify of thousands of kept
 * nodes makes a string of several MB, which V8 allocates in old space, so each full-node call
 * brought a full collection nearer; strings of one node die young (server CPU per 5,000-node call
 * fell by about a tenth). `items` goes last; kube-scheduler reads the list by field.
 */
function writeNodeList(out: JsonBytes, list: NonNullable<ExtenderArgs['Nodes']>, kept: readonly Node[]): void {
  const { items: _, ...rest } = list;
  const head = JSON.stringify(rest);
  out.raw(head.length === 2 ? '{"items":[' : `${head.slice(0, -1)},"items":[`);
  kept.forEach((node, i) => {
    if (i > 0) out.raw(',');
    out.raw(JSON.stringify(node));
  });
  out.raw(']}');
}
