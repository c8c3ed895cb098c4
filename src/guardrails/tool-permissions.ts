/**
 * Where agent tool use is governed: a `direction: tool-call` check names the tool, and the pool's
 * AgentClass `toolPermissions` decide. A tool the class does not list is blocked; `requiredScopes`
 * must all be among the scopes the caller presents; `rateLimit` ("100/min") holds per pool and per
 * session; `maxConcurrency` counts calls in flight per pool and per session, each released by the
 * tool-result check that carries its `callId`, or when the tool's `timeout` (default 60 s) passes.
 * State is bounded: at most MAX_KEYS counters and MAX_IN_FLIGHT open calls, oldest dropped first.
 */
import type { AgentClass } from '../api/neuronetes.ts';
import { parseDuration } from '../util/duration.ts';

export interface ToolCall {
  readonly tool: string;
  readonly session?: string;
  readonly scopes?: readonly string[];
}

export type ToolDecision = { readonly allowed: true; readonly callId: string } | { readonly allowed: false; readonly reason: string };

const MAX_KEYS = 10_000;
const MAX_IN_FLIGHT = 10_000;
const DEFAULT_CALL_TIMEOUT_MS = 60_000;
const UNITS: Readonly<Record<string, number>> = { s: 1_000, sec: 1_000, second: 1_000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 };

/** `100/min` → 100 calls per 60,000 ms; undefined when it is not a rate. */
export function parseRate(rate: string): { limit: number; windowMs: number } | undefined {
  const m = /^\s*(\d{1,9})\s*\/\s*(\d{0,6})\s*([a-z]+)\s*$/i.exec(rate);
  const unit = m === null ? undefined : UNITS[(m[3] as string).toLowerCase()];
  if (m === null || unit === undefined) return undefined;
  return { limit: Number(m[1]), windowMs: unit * (m[2] === '' ? 1 : Number(m[2])) };
}

interface Window {
  start: number;
  count: number;
}

interface InFlight {
  readonly keys: readonly string[];
  readonly expires: number;
}

/** A Map used as an LRU: re-inserting moves a key to the end; the first key is the oldest. */
function bounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as string);
}

export class ToolPermissionGate {
  readonly #windows = new Map<string, Window>();
  readonly #inFlight = new Map<string, InFlight>();
  readonly #running = new Map<string, number>();
  readonly #now: () => number;
  #nextId = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  decide(pool: string, agentClass: AgentClass | undefined, call: ToolCall): ToolDecision {
    const permission = agentClass?.spec.toolPermissions?.find((p) => p.name === call.tool);
    if (permission === undefined) return { allowed: false, reason: `tool ${call.tool} is not in the AgentClass's toolPermissions` };
    const missing = (permission.requiredScopes ?? []).filter((s) => !(call.scopes ?? []).includes(s));
    if (missing.length > 0) return { allowed: false, reason: `tool ${call.tool} needs scopes ${missing.join(', ')} the caller did not present` };
    const now = this.#now();
    this.#expire(now);
    const keys = [`${pool}|${call.tool}`, ...(call.session !== undefined ? [`${pool}|${call.tool}|${call.session}`] : [])];
    if (permission.maxConcurrency !== undefined) {
      const full = keys.find((k) => (this.#running.get(k) ?? 0) >= (permission.maxConcurrency as number));
      if (full !== undefined)
        return {
          allowed: false,
          reason: `tool ${call.tool} already has ${permission.maxConcurrency} calls in flight (${full.includes(`|${call.tool}|`) ? 'session' : 'pool'})`,
        };
    }
    if (permission.rateLimit !== undefined) {
      const rate = parseRate(permission.rateLimit);
      if (rate === undefined)
        return {
          allowed: false,
          reason: `tool ${call.tool}: rateLimit ${JSON.stringify(permission.rateLimit)} is not a rate like 100/min; blocked until it is`,
        };
      const windows = keys.map((k) => {
        const w = this.#windows.get(k);
        return w !== undefined && now - w.start < rate.windowMs ? w : { start: now, count: 0 };
      });
      const over = windows.findIndex((w) => w.count >= rate.limit);
      if (over >= 0) return { allowed: false, reason: `tool ${call.tool} is over its rate limit ${permission.rateLimit} (${over === 0 ? 'pool' : 'session'})` };
      windows.forEach((w, i) => {
        w.count++;
        bounded(this.#windows, keys[i] as string, w, MAX_KEYS);
      });
    }
    const callId = `tc-${(++this.#nextId).toString(36)}`;
    if (permission.maxConcurrency !== undefined) {
      const timeout = permission.timeout === undefined ? DEFAULT_CALL_TIMEOUT_MS : parseDuration(permission.timeout);
      // Over the bound, the oldest open call is taken as finished: its result was never reported.
      if (this.#inFlight.size >= MAX_IN_FLIGHT) this.release(this.#inFlight.keys().next().value as string);
      for (const k of keys) this.#running.set(k, (this.#running.get(k) ?? 0) + 1);
      this.#inFlight.set(callId, { keys, expires: now + timeout });
    }
    return { allowed: true, callId };
  }

  /** The tool call finished (its result was checked): its slot is free. Unknown ids are ignored. */
  release(callId: string): void {
    const call = this.#inFlight.get(callId);
    if (call === undefined) return;
    this.#inFlight.delete(callId);
    for (const k of call.keys) {
      const n = (this.#running.get(k) ?? 1) - 1;
      if (n <= 0) this.#running.delete(k);
      else this.#running.set(k, n);
    }
  }

  /** Frees the calls whose timeout passed. */
  #expire(now: number): void {
    for (const [id, call] of this.#inFlight) if (call.expires <= now) this.release(id);
  }
}
