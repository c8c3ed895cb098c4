/** What /debug/plugins/scheduler/trace shows for one extender call. */
import type { TraceEntry } from '../observability/trace-buffer.ts';
import type { PluginPassSummary } from './filter-chain.ts';

export interface NodeTrace {
  kept?: boolean;
  /** The plugin that rejected the node, and why, in words for a person. */
  rejectedBy?: string;
  reason?: string;
  unresolvable?: boolean;
  /** What shadow plugins would have done. */
  shadow?: { plugin: string; reason: string }[];
  /** 0..100 weighted mean, and what kube-scheduler was sent (0..10). */
  score?: number;
  wireScore?: number;
  scores?: Record<string, number | null>;
  victims?: { kept: string[]; vetoed: { uid: string; plugin: string; reason?: string }[] };
}

export interface SchedulerTrace extends TraceEntry {
  verb: 'filter' | 'prioritize' | 'bind' | 'preempt';
  /** `namespace/name` of the pod (also `subject`). */
  pod: string;
  pool: string | null;
  poolStatus: 'none' | 'found' | 'unknown';
  mode: 'names' | 'nodes' | null;
  durationMs: number;
  summary: string;
  error?: string;
  plugins: PluginPassSummary[];
  nodes: Record<string, NodeTrace>;
  /** Nodes left out of `nodes` to keep the entry under TRACE_ENTRY_MAX_BYTES: one call of 300,000 nodes costs the ring no more. */
  nodesOmitted?: number;
}

/** Strings the request or a plugin chose (names, UIDs, messages) are cut to this many characters. */
export const TRACE_NAME_CHARS = 256;
export const TRACE_TEXT_CHARS = 1024;
/** What a node's entry adds to its name and reason in JSON: quotes, keys, punctuation. */
export const NODE_JSON_BYTES = 48;

/** The part of an entry's byte bound its nodes have taken, and how many did not fit. */
export class NodeAllowance {
  left: number;
  omitted = 0;
  constructor(bytes: number) {
    this.left = bytes;
  }

  /** Takes `bytes` for one more node if they fit; once one does not, no later node is taken either. */
  take(bytes: number): boolean {
    if (this.omitted === 0 && bytes <= this.left) {
      this.left -= bytes;
      return true;
    }
    this.omitted++;
    return false;
  }

  /** How many of `count` nodes fit, each costing `cost(i)`; the rest are counted as omitted. */
  fit(count: number, cost: (i: number) => number): number {
    for (let i = 0; i < count; i++) {
      if (!this.take(cost(i))) {
        this.omitted += count - i - 1;
        return i;
      }
    }
    return count;
  }
}
