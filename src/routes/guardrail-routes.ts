/**
 * POST /guardrails/check: run the guardrail chain on one piece of agent traffic. A block is an
 * answer (200, `allowed: false`), not an error; errors are bodies that are not a check (400), a pool
 * the service does not know (404) and a `failurePolicy: Fail` guardrail that failed (500).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { Type } from 'typebox';
import { StreamScreen } from '../guardrails/stream-screen.ts';
import { BadRequestError } from '../server/errors.ts';

const Action = Type.Enum(['allow', 'block', 'redact', 'warn', 'log']);
const StringMap = Type.Record(Type.String(), Type.String());

const GuardrailCheckRequest = Type.Object(
  {
    content: Type.String(),
    direction: Type.Optional(Type.Enum(['input', 'output', 'tool-call', 'tool-result'])),
    /** The AgentPool the traffic belongs to: its AgentClass's `guardrails[]` then applies. */
    pool: Type.Optional(
      Type.Object({ name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
    ),
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

const StreamQuery = Type.Object(
  {
    pool: Type.Optional(Type.String({ pattern: '^([a-z0-9.-]+/)?[a-z0-9.-]+$' })),
    direction: Type.Optional(Type.Enum(['input', 'output', 'tool-result'])),
  },
  { additionalProperties: false },
);

/** One NDJSON line of a streamed body: a chunk of the text. */
function chunkOf(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new BadRequestError(`a stream line is not JSON: ${line.slice(0, 80)}`);
  }
  const delta = (parsed as { delta?: unknown } | null)?.delta;
  if (typeof delta !== 'string') throw new BadRequestError('each stream line is {"delta": "<text>"}');
  return delta;
}

export const guardrailRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { guardrails } = app.neuronetes;

  // The stream's body is read line by line as it arrives, not parsed whole.
  app.addContentTypeParser('application/x-ndjson', (_request, payload, done) => done(null, payload));

  /**
   * POST /guardrails/stream?pool=ns/name&direction=output with an NDJSON body of {"delta": "…"}
   * lines: answers NDJSON {"delta": "…"} lines (redacted, a window behind) and, at the first block,
   * one {"blocked": true, …} line, after which the rest of the body is not read.
   */
  app.post('/stream', { schema: { querystring: StreamQuery } }, async (request, reply) => {
    const [namespace, name] = request.query.pool?.includes('/') === true ? request.query.pool.split('/') : [undefined, request.query.pool];
    const screen = new StreamScreen(
      { check: (input) => guardrails.check(input, request.log) },
      {
        ...(request.query.direction !== undefined ? { direction: request.query.direction } : {}),
        ...(name !== undefined ? { pool: { name, ...(namespace !== undefined ? { namespace } : {}) } } : {}),
      },
    );
    const body = request.body as Readable;
    async function* events(): AsyncGenerator<string> {
      try {
        for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
          if (line.trim() === '') continue;
          for (const e of await screen.feed(chunkOf(line))) yield `${JSON.stringify(e)}\n`;
          if (screen.done) {
            body.destroy();
            return;
          }
        }
        for (const e of await screen.end()) yield `${JSON.stringify(e)}\n`;
      } catch (e: unknown) {
        // The answer has begun: a bad line, an unknown pool or a failing guardrail ends it with an error line.
        body.destroy();
        yield `${JSON.stringify({ error: (e as Error).message })}\n`;
      }
    }
    return reply.type('application/x-ndjson').send(Readable.from(events()));
  });

  app.post('/check', { schema: { body: GuardrailCheckRequest, response: { 200: GuardrailCheckResponse } } }, (request) =>
    guardrails.check(request.body, request.log),
  );
};
