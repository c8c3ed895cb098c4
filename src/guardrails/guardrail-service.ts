/**
 * POST /guardrails/check behind the route: find the pool's guardrail policy, run the chain within
 * the request budget, count the outcome and leave a trace of every verdict (never the content).
 */
import type { FastifyBaseLogger as Logger } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { NotFoundError } from '../api/errors.ts';
import type { TraceEntry } from '../observability/trace-buffer.ts';
import type { ChainServiceDeps } from '../plugins/chain-service-deps.ts';
import { RequestBudget } from '../plugins/plugin-pass.ts';
import type { GuardrailAction, GuardrailDirection, GuardrailRequest } from '../plugins/types.ts';
import { runGuardrailChain, type GuardrailOutcome, type GuardrailVerdict } from './guardrail-chain.ts';
import { policyFor } from './guardrail-policy.ts';
import { ToolPermissionGate } from './tool-permissions.ts';

/** Guardrails sit inline in agent traffic: their whole chain answers within this unless configured. */

export interface GuardrailCheck {
  content: string;
  direction?: GuardrailDirection;
  pool?: { name: string; namespace?: string };
  metadata?: Record<string, string>;
  /** For `tool-call`: the tool asked for, its arguments (screened with the content), who asks. */
  tool?: string;
  arguments?: Record<string, unknown>;
  session?: string;
  scopes?: string[];
  /** For `tool-result`: the id a tool-call check answered with, which frees its concurrency slot. */
  callId?: string;
}

export interface GuardrailCheckOutcome extends GuardrailOutcome {
  /** For an allowed tool call: report it with the tool's result. */
  readonly callId?: string;
}

/** A tool call the service cannot judge: no pool, so no AgentClass to ask, or no tool named. */
export class BadToolCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadToolCallError';
  }
}

const TOOL_GATE = 'tool-permissions';

export interface GuardrailTrace extends TraceEntry {
  /** `namespace/pool`, or `(no pool)`; also `subject`. */
  readonly pool: string | null;
  readonly agentClass: string | null;
  readonly direction: GuardrailDirection | null;
  readonly contentLength: number;
  readonly allowed: boolean;
  readonly action: GuardrailAction;
  readonly blockedBy?: string;
  readonly durationMs: number;
  readonly unenforced: readonly string[];
  readonly verdicts: readonly GuardrailVerdict[];
  readonly error?: string;
}

export interface GuardrailServiceDeps extends ChainServiceDeps<TraceEntry> {
  readonly registry: Registry;
}

export class GuardrailService {
  readonly #deps: GuardrailServiceDeps;
  readonly #checks: Counter<'action'>;
  readonly #tools = new ToolPermissionGate();

  constructor(deps: GuardrailServiceDeps) {
    this.#deps = deps;
    this.#checks = new Counter({
      name: 'neuronetes_guardrail_checks_total',
      help: 'Guardrail checks by the action taken on the request (allow, log, warn, redact, block)',
      labelNames: ['action'] as const,
      registers: [deps.registry],
    });
  }

  /** Throws NotFoundError (an unknown pool), or PluginFailure when a `failurePolicy: Fail` guardrail fails. */
  async check(input: GuardrailCheck, log: Logger): Promise<GuardrailCheckOutcome> {
    const started = performance.now();
    const lookup = policyFor(this.#deps.cluster.view(), input.pool);
    if (!lookup.found) throw new NotFoundError('AgentPool', lookup.ref);
    const { policy, agentClass } = lookup;
    const trace = (fields: Pick<GuardrailTrace, 'allowed' | 'action' | 'unenforced' | 'verdicts'> & { blockedBy?: string; error?: string }): void => {
      const t = this.#deps.trace;
      const entry: GuardrailTrace = {
        id: t.nextId(),
        time: new Date().toISOString(),
        subject: policy.pool ?? '(no pool)',
        pool: policy.pool,
        agentClass: agentClass === undefined ? null : `${agentClass.metadata.namespace ?? 'default'}/${agentClass.metadata.name}`,
        direction: input.direction ?? null,
        contentLength: input.content.length,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        ...fields,
      };
      t.push(entry);
    };
    if (input.direction === 'tool-result' && input.callId !== undefined) this.#tools.release(input.callId);
    let callId: string | undefined;
    let content = input.content;
    if (input.direction === 'tool-call') {
      if (input.tool === undefined) throw new BadToolCallError('a tool-call check names its tool');
      if (policy.pool === null) throw new BadToolCallError("a tool-call check names its pool: the pool's AgentClass decides which tools it may use");
      const decision = this.#tools.decide(policy.pool, agentClass, {
        tool: input.tool,
        ...(input.session !== undefined ? { session: input.session } : {}),
        ...(input.scopes !== undefined ? { scopes: input.scopes } : {}),
      });
      if (!decision.allowed) {
        const verdict: GuardrailVerdict = {
          plugin: TOOL_GATE,
          type: TOOL_GATE,
          mode: 'enforce',
          pluginAction: 'block',
          action: 'block',
          passed: false,
          reason: decision.reason,
          confidence: 1,
          durationMs: 0,
        };
        const outcome: GuardrailOutcome = {
          allowed: false,
          action: 'block',
          content: input.content,
          blockedBy: TOOL_GATE,
          reason: decision.reason,
          verdicts: [verdict],
          unenforced: [],
        };
        this.#checks.inc({ action: 'block' });
        trace({ allowed: false, action: 'block', unenforced: [], verdicts: outcome.verdicts, blockedBy: TOOL_GATE });
        return outcome;
      }
      callId = decision.callId;
      // The arguments are screened like any content: a secret or an injection in them is caught the same way.
      if (input.arguments !== undefined) content = content === '' ? JSON.stringify(input.arguments) : `${content}\n${JSON.stringify(input.arguments)}`;
    }
    const request: GuardrailRequest = {
      content,
      ...(input.direction !== undefined ? { direction: input.direction } : {}),
      ...(input.pool !== undefined ? { pool: { namespace: input.pool.namespace ?? 'default', name: input.pool.name } } : {}),
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    };
    let outcome: GuardrailOutcome;
    try {
      outcome = await runGuardrailChain(
        this.#deps.runtime,
        this.#deps.plugins(),
        request,
        policy,
        new RequestBudget(this.#deps.config().guardrails.requestBudgetMs),
      );
    } catch (e: unknown) {
      if (callId !== undefined) this.#tools.release(callId);
      trace({ allowed: false, action: 'block', unenforced: [], verdicts: [], error: (e as Error).message });
      throw e;
    }
    this.#checks.inc({ action: outcome.action });
    if (outcome.unenforced.length > 0) {
      log.warn({ pool: policy.pool, unenforced: outcome.unenforced }, 'the AgentClass asks for guardrail types no enabled guardrail provides');
    }
    trace({
      allowed: outcome.allowed,
      action: outcome.action,
      unenforced: outcome.unenforced,
      verdicts: outcome.verdicts,
      ...(outcome.blockedBy !== undefined ? { blockedBy: outcome.blockedBy } : {}),
    });
    if (callId === undefined) return outcome;
    // A tool call the content guardrails blocked never runs: its slot is free at once.
    if (!outcome.allowed) this.#tools.release(callId);
    return outcome.allowed ? { ...outcome, callId } : outcome;
  }
}
