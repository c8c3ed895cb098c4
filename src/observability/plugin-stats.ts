/** Per-plugin counters and recent durations for /debug/plugins; they outlive config reloads. */
import type { PluginType } from '../plugins/types.ts';

const WINDOW = 512;

export interface PluginStatsSnapshot {
  calls: number;
  errors: number;
  timeouts: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

class PluginCounters {
  calls = 0;
  errors = 0;
  timeouts = 0;
  readonly #durations = new Float64Array(WINDOW);
  #count = 0;

  record(durationMs: number, calls: number, errors: number, timeouts: number): void {
    this.calls += calls;
    this.errors += errors;
    this.timeouts += timeouts;
    this.#durations[this.#count % WINDOW] = durationMs;
    this.#count++;
  }

  snapshot(): PluginStatsSnapshot {
    const n = Math.min(this.#count, WINDOW);
    const sorted = this.#durations.slice(0, n).sort();
    const q = (p: number): number | null => (n === 0 ? null : round3(sorted[Math.min(n - 1, Math.floor(p * n))] as number));
    return { calls: this.calls, errors: this.errors, timeouts: this.timeouts, p50Ms: q(0.5), p99Ms: q(0.99) };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export class PluginStats {
  readonly #byPlugin = new Map<string, PluginCounters>();

  /** One record per plugin per request phase: `calls` may count one call per node. */
  record(type: PluginType, name: string, durationMs: number, calls: number, errors: number, timeouts: number): void {
    const key = `${type}/${name}`;
    let c = this.#byPlugin.get(key);
    if (c === undefined) {
      c = new PluginCounters();
      this.#byPlugin.set(key, c);
    }
    c.record(durationMs, calls, errors, timeouts);
  }

  get(type: PluginType, name: string): PluginStatsSnapshot {
    return this.#byPlugin.get(`${type}/${name}`)?.snapshot() ?? { calls: 0, errors: 0, timeouts: 0, p50Ms: null, p99Ms: null };
  }
}
