/**
 * A bound on the request-body bytes the process holds at once: each body is bounded by its route's
 * bodyLimit, but many slow ones together would exhaust memory. Bytes are counted as they arrive and
 * given back when the request ends; a body that would overdraw the budget is refused with 503 (a
 * declared Content-Length up front, a chunked body at the chunk that overdraws).
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { BodyBudgetError } from './errors.ts';

export class BodyBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  take(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used -= bytes;
  }
}

/** Counts every request body against `budget` (a preParsing hook: the bytes are counted before any parser sees them). */
export function installBodyBudget(app: FastifyInstance, budget: BodyBudget, registry: Registry): void {
  new Gauge({
    name: 'neuronetes_request_body_bytes',
    help: 'Request-body bytes received and held by requests in flight (bounded by --body-budget)',
    registers: [registry],
    collect(): void {
      this.set(budget.used);
    },
  });
  app.addHook('preParsing', async (request, reply, payload) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > budget.limit - budget.used) {
      // The body is never read, so the connection cannot carry another request: close it with the answer.
      reply.header('connection', 'close');
      throw new BodyBudgetError(budget.used);
    }
    let held = 0;
    const release = (): void => {
      budget.give(held);
      held = 0;
    };
    // 'close' ends every response, answered or abandoned, so the budget cannot leak.
    reply.raw.once('close', release);
    return payload.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
          if (!budget.take(chunk.length)) return done(new BodyBudgetError(budget.used));
          held += chunk.length;
          done(null, chunk);
        },
      }),
    );
  });
}
