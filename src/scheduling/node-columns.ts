/**
 * The per-node part of one traced filter or prioritize call — the candidates' names, each one's
 * verdict, the plugins' scores — in arrays that pass from the call the trace ring forgets to the call
 * it records. The ring keeps the last hundred calls, long enough for whatever it holds to reach V8's
 * old generation: at 5,000 nodes, arrays made per call and kept by the ring were over 100 KB of
 * promotion per scheduling cycle, and the full collections that reclaimed them paused the service
 * for 6–30 ms every second or two: the extender's p99. Copied here, a call's own arrays die young.
 */
import { clip } from '../util/clip.ts';

export class NodeColumns {
  /** The trace entry whose nodes these are; once the columns pass to another, the old entry has none. */
  owner = 0;
  count = 0;
  /** The first `count` are the owner's candidates. */
  readonly names: string[] = [];
  /** Filter: per node, its index among the call's rejections, or NOT_REJECTED. */
  verdicts: Int32Array = new Int32Array(0);
  /** Prioritize: plugin j's score for node i at `j * count + i`, as ScoreOutcome.scores. */
  scores: Uint16Array = new Uint16Array(0);
  /** Prioritize: each node's weighted mean. */
  totals: Float64Array = new Float64Array(0);

  /**
   * Takes the columns for entry `owner` and copies in the first `n` of its candidates' names (those
   * the entry's byte bound leaves room for), each cut to `maxChars`.
   */
  claim(owner: number, names: readonly string[], n: number, maxChars: number): this {
    this.owner = owner;
    // Grown, and shrunk only when far too large (oversized): V8 trims a shortened array's store, and
    // growing it again allocates anew, so sizes that merely vary keep their store.
    if (this.names.length < n || oversized(this.names.length, n)) this.names.length = n;
    for (let i = 0; i < n; i++) {
      const name = names[i] as string;
      this.names[i] = name.length > maxChars ? clip(name, maxChars) : name;
    }
    // The last owner's names past ours would keep strings of nodes the cluster may have dropped.
    this.names.fill('', n, this.count);
    this.count = n;
    return this;
  }

  /** The ring has forgotten the owner: its entry shows no nodes from now on, even to a reader holding it. */
  release(): this {
    this.owner = 0;
    return this;
  }

  /** Keeps the verdicts of the claimed nodes. */
  keepVerdicts(verdicts: Int32Array): void {
    this.verdicts = copyInto(this.verdicts, verdicts.subarray(0, this.count), (n) => new Int32Array(n));
  }

  /** Keeps the claimed nodes' scores, out of a call's `scores` laid out per plugin over `stride` nodes. */
  keepScores(scores: Uint16Array, totals: Float64Array, stride: number): void {
    const n = this.count;
    if (n === stride) this.scores = copyInto(this.scores, scores, (size) => new Uint16Array(size));
    else {
      const plugins = stride === 0 ? 0 : scores.length / stride;
      const rows = new Uint16Array(plugins * n);
      for (let j = 0; j < plugins; j++) rows.set(scores.subarray(j * stride, j * stride + n), j * n);
      this.scores = copyInto(this.scores, rows, (size) => new Uint16Array(size));
    }
    this.totals = copyInto(this.totals, totals.subarray(0, n), (size) => new Float64Array(size));
  }
}

/** Columns much larger than a call needs give the memory back: the calls they serve got smaller. */
const oversized = (capacity: number, needed: number): boolean => capacity > 2 * needed + 1024;

/** Copies `from` into `into` when it fits (and is not oversized), else into a new array with room to spare. */
function copyInto<A extends Int32Array | Uint16Array | Float64Array>(into: A, from: A, make: (length: number) => A): A {
  const fits = into.length >= from.length && !oversized(into.length, from.length);
  const target = fits ? into : make(Math.ceil(from.length * 1.25));
  target.set(from);
  return target;
}
