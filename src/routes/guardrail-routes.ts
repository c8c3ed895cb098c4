/**
 * POST /guardrails/check: run the guardrail chain on one piece of agent traffic. A block is an
 * answer (200, `allowed: false`), not an error; errors are bodies that are not a check (400), a pool
 * the service does not know (404) and a `failurePolicy: Fail` guardrail that failed (500).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BadToolCallError, UnknownGuardrailPoolError } from '../guardrails/guardrail-service.ts';
import { PluginFailure } from '../plugins/plugin-pass.ts';
import { BadRequestError, PluginChainError, UnknownPoolError } from '../server/errors.ts';

const Action = Type.Enum(['allow', 'block', 'redact', 'warn', 'log']);
const StringMap = Type.Record(Type.String(), Type.String());

export const GuardrailCheckRequest = Type.Object(
  {
    content: Type.String(),
    direction: Type.Optional(Type.Enum(['input', 'output', 'tool-call', 'tool-result'])),
    /** The AgentPool the traffic belongs to: its AgentClass's `guardrails[]` then applies. */
    pool: Type.Optional(Type.Object({ name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false })),
    metadata: Type.Optional(StringMap),
    /** `tool-call`: the tool, its arguments (screened with the content), the session and the caller's scopes. */
    tool: Type.Optional(Type.String({ minLength: 1 })),
    arguments: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    session: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    scopes: Type.Optional(Type.Array(Type.String(), { maxItems: 256 })),
    /** `tool-result`: the callId the tool-call check answered with. */
    callId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

const Verdict = Type.Object({
  plugin: Type.String(),
  type: Type.String(),
  mode: Type.Enum(['enforce', 'shadow']),
  pluginAction: Type.Union([Action, Type.Null()]),
  action: Type.Union([Action, Type.Null()]),
  passed: Type.Union([Type.Boolean(), Type.Null()]),
  reason: Type.Optional(Type.String()),
  confidence: Type.Optional(Type.Number()),
  threshold: Type.Optional(Type.Number()),
  note: Type.Optional(Type.String()),
  metadata: Type.Optional(StringMap),
  durationMs: Type.Number(),
  failure: Type.Optional(Type.String()),
});

export const GuardrailCheckResponse = Type.Object({
  allowed: Type.Boolean(),
  action: Action,
  /** The content to pass on: redacted where a guardrail redacted it. */
  content: Type.String(),
  blockedBy: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  unenforced: Type.Array(Type.String()),
  verdicts: Type.Array(Verdict),
  callId: Type.Optional(Type.String()),
});

export const guardrailRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { guardrails } = app.neuronetes;

  app.post('/check', { schema: { body: GuardrailCheckRequest, response: { 200: GuardrailCheckResponse } } }, async (request) => {
    try {
      return await guardrails.check(request.body, request.log);
    } catch (e: unknown) {
      if (e instanceof UnknownGuardrailPoolError) throw new UnknownPoolError(e.ref);
      if (e instanceof BadToolCallError) throw new BadRequestError(e.message);
      if (e instanceof PluginFailure) throw new PluginChainError(e.message);
      throw e;
    }
  });
};
