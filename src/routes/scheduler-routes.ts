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

export const schedulerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { extender, metrics } = app.neuronetes;

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

  app.post('/prioritize', { schema: { body: ExtenderArgs, response: { 200: HostPriorityList } } }, (request) =>
    observe('prioritize', () => extender.prioritize(request.body, request.log), () => true),
  );

  app.post('/bind', { schema: { body: ExtenderBindingArgs, response: { 200: ExtenderBindingResult } } }, (request) =>
    observe('bind', () => extender.bind(request.body, request.log), (r) => r.Error === ''),
  );

  app.post('/preempt', { schema: { body: ExtenderPreemptionArgs, response: { 200: ExtenderPreemptionResult } } }, (request) =>
    observe('preempt', () => extender.preempt(request.body, request.log), () => true),
  );
};
