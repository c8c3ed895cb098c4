/**
 * The load driver: an undici Pool with a capped number of connections, `concurrency` callers each
 * sending pre-encoded bodies back to back (kube-scheduler's way at concurrency 1), bounded both in
 * calls and in time. Every reply body is read in full, as the scheduler would, but not parsed: the
 * client's decoding is not the server's cost.
 */
import { Pool } from 'undici';

export interface Budget {
  /** Calls made before measuring (JIT, memo, connection set-up). */
  readonly warmup: number;
  /** Stop after this many measured calls… */
  readonly maxCalls: number;
  /** …or after this long, whichever comes first, but not before `minCalls`. */
  readonly maxMs: number;
  readonly minCalls: number;
}

export interface LoadResult {
  /** Measured calls; `warmup` more were made before them. */
  readonly calls: number;
  readonly warmup: number;
  readonly concurrency: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly callsPerSec: number;
  /** Bytes of the first request body and of the first reply, for the table. */
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export interface Call {
  readonly path: string;
  readonly body: string;
}

const CALL_TIMEOUT_MS = 30_000;

export class LoadClient {
  readonly #pool: Pool;

  constructor(origin: string, connections = 8) {
    this.#pool = new Pool(origin, { connections, pipelining: 1, connectTimeout: 2_000, headersTimeout: CALL_TIMEOUT_MS, bodyTimeout: CALL_TIMEOUT_MS });
  }

  #post(call: Call): ReturnType<Pool['request']> {
    return this.#pool.request({
      method: 'POST',
      path: call.path,
      headers: { 'content-type': 'application/json' },
      body: call.body,
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  }

  /** One call; throws on any status but 200, with the reply's text (the body the scheduler would discard). */
  async call(call: Call): Promise<string> {
    const { statusCode, body } = await this.#post(call);
    const text = await body.text();
    if (statusCode !== 200) throw new HttpStatusError(call.path, statusCode, text);
    return text;
  }

  /** Status only, for probing whether a route exists; the body is dropped. */
  async status(call: Call): Promise<number> {
    const { statusCode, body } = await this.#post(call);
    await body.dump();
    return statusCode;
  }

  /**
   * Runs `next(i)` (a rotation over payloads; a list is one step of calls made in order, timed
   * together) at the given concurrency within the budget.
   */
  async load(next: (i: number) => Call | readonly Call[], concurrency: number, budget: Budget): Promise<LoadResult> {
    let responseBytes = 0;
    const run = async (i: number): Promise<void> => {
      const step = next(i);
      for (const c of Array.isArray(step) ? (step as readonly Call[]) : [step as Call]) {
        const text = await this.call(c);
        if (responseBytes === 0) responseBytes = Buffer.byteLength(text);
      }
    };
    for (let i = 0; i < budget.warmup; i++) await run(i);
    const samples: number[] = [];
    let issued = 0;
    const started = performance.now();
    const deadline = started + budget.maxMs;
    const worker = async (): Promise<void> => {
      while (issued < budget.maxCalls && (performance.now() < deadline || issued < budget.minCalls)) {
        const i = issued++;
        const t0 = performance.now();
        await run(budget.warmup + i);
        samples.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = performance.now() - started;
    const first = next(0);
    const requestBytes = (Array.isArray(first) ? (first as readonly Call[]) : [first as Call]).reduce((s, c) => s + Buffer.byteLength(c.body), 0);
    return { ...summarize(samples), warmup: budget.warmup, concurrency, callsPerSec: round((samples.length * 1000) / elapsed, 1), requestBytes, responseBytes };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

export class HttpStatusError extends Error {
  readonly statusCode: number;
  constructor(path: string, statusCode: number, body: string) {
    super(`POST ${path} answered ${statusCode}: ${body.slice(0, 300)}`);
    this.name = 'HttpStatusError';
    this.statusCode = statusCode;
  }
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Nearest-rank percentiles over the samples, in ms. */
export function summarize(samples: readonly number[]): { calls: number; p50Ms: number; p99Ms: number; meanMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const q = (p: number): number => (n === 0 ? Number.NaN : round(sorted[Math.min(n - 1, Math.ceil(p * n) - 1)] as number));
  return { calls: n, p50Ms: q(0.5), p99Ms: q(0.99), meanMs: n === 0 ? Number.NaN : round(sorted.reduce((s, x) => s + x, 0) / n) };
}
