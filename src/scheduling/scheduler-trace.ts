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
  victims?: { kept: string[]; vetoed: { uid: string; plugin: string }[] };
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
}
