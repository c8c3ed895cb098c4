/**
 * kube-scheduler's extender verbs. Domain failures go in the 200 reply's `Error` field (the scheduler
 * discards the body of any other status); 400 is for bodies that are not the verb's arguments at all.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import {
  ExtenderArgs,
  ExtenderBindingArgs,
  ExtenderBindingResult,
  ExtenderPreemptionArgs,
  ExtenderPreemptionResult,
  MAX_EXTENDER_PRIORITY,
  type HostPriorityList,
} from '../api/extender.ts';
import { JsonBytes } from '../api/json-bytes.ts';
import { ReplyBuffers } from '../api/reply-buffers.ts';

/** Each score's tail, `,"Score":N}`, encoded once: scores are the integers 0..10. */
const SCORE_TAILS = Array.from({ length: MAX_EXTENDER_PRIORITY + 1 }, (_, score) => Buffer.from(`,"Score":${score}}`));

/** A HostPriorityList written straight into bytes: JSON.stringify of thousands of small objects costs more than scoring them. */
function hostPriorityJson(list: HostPriorityList, pool: ReplyBuffers): Buffer {
  const out = new JsonBytes(40 * list.length + 2, pool).raw('[');
  list.forEach(({ Host, Score }, i) => {
    out.raw(i === 0 ? '{"Host":' : ',{"Host":').string(Host);
    const tail = SCORE_TAILS[Score];
    if (tail === undefined) out.raw(`,"Score":${JSON.stringify(Score)}}`);
    else out.bytes(tail);
  });
  return out.raw(']').done();
}

/** ExtenderBindingArgs are four names; nothing legitimate comes near this. */
const BIND_BODY_LIMIT = 64 * 1024;

export interface SchedulerRoutesOptions {
  /** Largest body of filter, prioritize and preempt, which carry NodeLists and victim Pods. */
  bodyLimit: number;
}

export const schedulerRoutes: FastifyPluginAsyncTypebox<SchedulerRoutesOptions> = async (app, { bodyLimit }) => {
  const { extender, metrics } = app.neuronetes;

  /*
   * Plain JSON.parse, without the "__proto__"/"constructor" scan (two regex passes over bodies of tens
   * of MB): the scan guards code that merges parsed keys into existing objects, and nothing behind
   * these routes does — it reads named fields and copies only by spread. Keep it so, or restore the
   * scan; test/server/json-parsing.test.ts holds this. Every other route keeps fastify's parser.
   */
  app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('ignore', 'ignore'));

  /** Times and counts each verb; what it throws goes to the error handler (400 NoCandidatesError, 500 PluginFailure). */
  async function observe<T>(verb: string, run: () => Promise<T>, succeeded: (result: T) => boolean): Promise<T> {
    const end = metrics.schedulerLatency.startTimer({ verb });
    metrics.schedulerAttempts.inc({ verb });
    try {
      const result = await run();
      if (succeeded(result)) metrics.schedulerSuccess.inc({ verb });
      return result;
    } finally {
      end();
    }
  }

  // filter and prioritize write their own JSON (FilterReply.wire(), hostPriorityJson(); tests hold
  // them to ExtenderFilterResult and HostPriorityList): their replies carry thousands of entries.
  // The buffers are the pool's again once the response is out ('close' follows 'finish', when the
  // bytes are the kernel's, and also ends a response whose connection dropped).
  const replyBuffers = new ReplyBuffers();
  const sendJson = (reply: FastifyReply, body: Buffer): FastifyReply => {
    reply.raw.once('close', () => replyBuffers.give(body));
    return reply.type('application/json; charset=utf-8').send(body);
  };

  app.post('/filter', { bodyLimit, schema: { body: ExtenderArgs } }, async (request, reply) => {
    const result = await observe(
      'filter',
      () => extender.filter(request.body, request.log),
      (r) => r.error === '' && r.keptCount > 0,
    );
    return sendJson(reply, result.wire(replyBuffers));
  });

  app.post('/prioritize', { bodyLimit, schema: { body: ExtenderArgs } }, async (request, reply) => {
    const list = await observe(
      'prioritize',
      () => extender.prioritize(request.body, request.log),
      () => true,
    );
    return sendJson(reply, hostPriorityJson(list, replyBuffers));
  });

  app.post('/bind', { bodyLimit: BIND_BODY_LIMIT, schema: { body: ExtenderBindingArgs, response: { 200: ExtenderBindingResult } } }, (request) =>
    observe(
      'bind',
      () => extender.bind(request.body, request.log),
      (r) => r.Error === '',
    ),
  );

  app.post('/preempt', { bodyLimit, schema: { body: ExtenderPreemptionArgs, response: { 200: ExtenderPreemptionResult } } }, (request) =>
    observe(
      'preempt',
      () => extender.preempt(request.body, request.log),
      () => true,
    ),
  );
};
