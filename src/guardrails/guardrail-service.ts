/**
 * POST /guardrails/check behind the route: find the pool's guardrail policy, run the chain within
 * the request budget, count the outcome and leave a trace of every verdict (never the content).
 */
import type { FastifyBaseLogger as Logger } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { TraceEntry } from '../observability/trace-buffer.ts';
import type { ChainServiceDeps } from '../plugins/chain-service-deps.ts';
import { RequestBudget } from '../plugins/plugin-pass.ts';
import type { GuardrailAction, GuardrailRequest } from '../plugins/types.ts';
import { runGuardrailChain, type GuardrailOutcome, type GuardrailVerdict } from './guardrail-chain.ts';
import { policyFor } from './guardrail-policy.ts';

/** Guardrails sit inline in agent traffic: their whole chain answers within this unless configured. */

export interface GuardrailCheck {
  content: string;
  direction?: 'input' | 'output';
  pool?: { name: string; namespace?: string };
  metadata?: Record<string, string>;
}

export interface GuardrailTrace extends TraceEntry {
  /** `namespace/pool`, or `(no pool)`; also `subject`. */
  readonly pool: string | null;
  readonly agentClass: string | null;
  readonly direction: 'input' | 'output' | null;
  readonly contentLength: number;
  readonly allowed: boolean;
  readonly action: GuardrailAction;
  readonly blockedBy?: string;
  readonly durationMs: number;
  readonly unenforced: readonly string[];
  readonly verdicts: readonly GuardrailVerdict[];
  readonly error?: string;
}

export class UnknownGuardrailPoolError extends Error {
  readonly ref: string;
  constructor(ref: string) {
    super(`no AgentPool ${ref} in the cluster source`);
    this.name = 'UnknownGuardrailPoolError';
    this.ref = ref;
  }
}

export interface GuardrailServiceDeps extends ChainServiceDeps<TraceEntry> {
  readonly registry: Registry;
}

export class GuardrailService {
  readonly #deps: GuardrailServiceDeps;
  readonly #checks: Counter<'action'>;

  constructor(deps: GuardrailServiceDeps) {
    this.#deps = deps;
    this.#checks = new Counter({
      name: 'neuronetes_guardrail_checks_total',
      help: 'Guardrail checks by the action taken on the request (allow, log, warn, redact, block)',
      labelNames: ['action'] as const,
      registers: [deps.registry],
    });
  }

  /** Throws UnknownGuardrailPoolError, or PluginFailure when a `failurePolicy: Fail` guardrail fails. */
  async check(input: GuardrailCheck, log: Logger): Promise<GuardrailOutcome> {
    const started = performance.now();
    const lookup = policyFor(this.#deps.cluster.view(), input.pool);
    if (!lookup.found) throw new UnknownGuardrailPoolError(lookup.ref);
    const { policy, agentClass } = lookup;
    const request: GuardrailRequest = {
      content: input.content,
      ...(input.direction !== undefined ? { direction: input.direction } : {}),
      ...(input.pool !== undefined ? { pool: { namespace: input.pool.namespace ?? 'default', name: input.pool.name } } : {}),
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    };
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
    let outcome: GuardrailOutcome;
    try {
      outcome = await runGuardrailChain(this.#deps.runtime, this.#deps.plugins().enabled('guardrail'), request, policy, new RequestBudget(this.#deps.config().guardrails.requestBudgetMs));
    } catch (e: unknown) {
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
    return outcome;
  }
}
