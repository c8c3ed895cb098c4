/**
 * kube-scheduler's extender verbs. Domain failures go in the 200 reply's `Error` field (the scheduler
 * discards the body of any other status); 400 is for bodies that are not the verb's arguments at all.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ExtenderArgs,
  ExtenderBindingArgs,
  ExtenderBindingResult,
  ExtenderPreemptionArgs,
  ExtenderPreemptionResult,
  HostPriorityList,
} from '../api/extender.ts';
import { PluginFailure } from '../plugins/plugin-pass.ts';
import { NoCandidatesError } from '../scheduling/extender-service.ts';
import { NoCandidatesHttpError, PluginChainError } from '../server/errors.ts';

/**
 * prioritize replies are JSON.stringify'd rather than compiled from their response schema (which
 * still describes the wire type): each entry of a HostPriorityList of thousands becomes pieces of a
 * string built by `+=` that must be flattened before it is written, and JSON.stringify's flat string
 * is cheaper to produce and write. The service builds the list with exactly the wire fields.
 */
const stringify = (): ((data: unknown) => string) => (data) => JSON.stringify(data);

export const schedulerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { extender, metrics } = app.neuronetes;

  /*
   * These routes parse JSON with plain JSON.parse, without secure-json-parse's scan of the text for
   * "__proto__" and "constructor" keys (two regex passes over up to tens of MB in full-node mode).
   * That scan guards code that copies parsed keys into existing objects (deep merges, Object.assign
   * into a prototype-backed target). Nothing downstream of these routes does: JSON.parse makes such a
   * key an own data property, never a prototype; the body schemas are checked field by field; the
   * service reads named fields and copies objects only by spread (`{ ...args.Nodes, items }`), which
   * defines own properties; maps built from request text (FailedNodes, by node name) take values, not
   * objects, so a "__proto__" name cannot reach a prototype. test/server/json-parsing.test.ts holds
   * this. Scoped to this plugin: every other route keeps fastify's default parser.
   */
  app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('ignore', 'ignore'));

  /*
   * Replies leave as Buffers: Buffer.from encodes a string to UTF-8 several times faster than the
   * socket's own string write (`writeUtf8String`, the top entry of profiles of large replies): about
   * 4 ms instead of 18 for a 3 MB filter reply, and the length header needs no second pass.
   */
  app.addHook('onSend', async (_request, _reply, payload) => (typeof payload === 'string' ? Buffer.from(payload) : payload));

  /** Times each verb and turns service errors into their HTTP shape. */
  async function observe<T>(verb: string, run: () => Promise<T>, succeeded: (result: T) => boolean): Promise<T> {
    const end = metrics.schedulerLatency.startTimer({ verb });
    metrics.schedulerAttempts.inc({ verb });
    try {
      const result = await run();
      if (succeeded(result)) metrics.schedulerSuccess.inc({ verb });
      return result;
    } catch (e: unknown) {
      if (e instanceof NoCandidatesError) throw new NoCandidatesHttpError(e.message);
      if (e instanceof PluginFailure) throw new PluginChainError(e.message);
      throw e;
    } finally {
      end();
    }
  }

  // The filter reply writes its own JSON (FilterReply.wire(), tested against ExtenderFilterResult):
  // thousands of FailedNodes entries are far cheaper as text than as a dictionary to serialize.
  app.post('/filter', { schema: { body: ExtenderArgs } }, async (request, reply) => {
    const result = await observe('filter', () => extender.filter(request.body, request.log), (r) => r.error === '' && r.keptCount > 0);
    return reply.type('application/json; charset=utf-8').send(result.wire());
  });

  app.post('/prioritize', { schema: { body: ExtenderArgs, response: { 200: HostPriorityList } }, serializerCompiler: stringify }, (request) =>
    observe('prioritize', () => extender.prioritize(request.body, request.log), () => true),
  );

  app.post('/bind', { schema: { body: ExtenderBindingArgs, response: { 200: ExtenderBindingResult } } }, (request) =>
    observe('bind', () => extender.bind(request.body, request.log), (r) => r.Error === ''),
  );

  app.post('/preempt', { schema: { body: ExtenderPreemptionArgs, response: { 200: ExtenderPreemptionResult } } }, (request) =>
    observe('preempt', () => extender.preempt(request.body, request.log), () => true),
  );
};
