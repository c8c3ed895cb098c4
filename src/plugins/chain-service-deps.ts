/** What every service that answers requests through a plugin chain is built from. */
import type { ClusterSource } from '../cluster/cluster-source.ts';
import type { ServiceConfig } from '../config/schema.ts';
import type { TraceBuffer, TraceEntry } from '../observability/trace-buffer.ts';
import type { ChainRuntime } from './plugin-pass.ts';
import type { PluginSet } from './plugin-set.ts';

export interface ChainServiceDeps<T extends TraceEntry> {
  readonly runtime: ChainRuntime;
  readonly cluster: ClusterSource;
  /** The plugin set and config in force now: read per request, so a reload applies to the next one. */
  readonly plugins: () => PluginSet;
  readonly config: () => ServiceConfig;
  readonly trace: TraceBuffer<T>;
}
