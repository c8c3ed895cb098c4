/**
 * Errors the HTTP layer itself raises, one factory per code; the services' own errors are mapped
 * to a status in error-handler.ts.
 */
import createError from '@fastify/error';

export const NoTraceError = createError<[string, string]>('NN_NO_TRACE', 'no trace of plugin type "%s"; traced: %s', 404);
export const BadRequestError = createError<[string]>('NN_BAD_REQUEST', '%s', 400);
export const NotOnThisListenerError = createError<[string, string, string]>(
  'NN_NOT_ON_THIS_LISTENER',
  '%s is not served on the %s listener; it is on the %s listener',
  404,
);
export const AdminOnlyError = createError<[string]>('NN_ADMIN_ONLY', '%s is accepted only on the admin listener (loopback; kubectl port-forward to it)', 403);
export const BodyBudgetError = createError<[number]>('NN_BODY_BUDGET', 'the service is already receiving %d bytes of request bodies; retry shortly', 503);
