/** The service's HTTP errors: one factory per code, stable `code` in every error body. */
import createError from '@fastify/error';

export const UnknownPluginTypeError = createError<[string, string]>('NN_UNKNOWN_PLUGIN_TYPE', 'unknown plugin type "%s"; one of %s', 404);
export const NoCandidatesHttpError = createError<[string]>('NN_NO_CANDIDATES', '%s', 400);
export const PluginChainError = createError<[string]>('NN_PLUGIN_CHAIN_FAILED', '%s', 500);
export const UnknownPoolError = createError<[string]>('NN_UNKNOWN_POOL', 'no AgentPool %s in the cluster source', 404);
export const BadRequestError = createError<[string]>('NN_BAD_REQUEST', '%s', 400);
export const NotOnThisListenerError = createError<[string, string, string]>('NN_NOT_ON_THIS_LISTENER', '%s is not served on the %s listener; it is on the %s listener', 404);
export const AdminOnlyError = createError<[string]>('NN_ADMIN_ONLY', '%s is accepted only on the admin listener (loopback; kubectl port-forward to it)', 403);
export const BodyBudgetError = createError<[number]>('NN_BODY_BUDGET', 'the service is already receiving %d bytes of request bodies; retry shortly', 503);
export const UnknownNodeError = createError<[string]>('NN_UNKNOWN_NODE', 'no node %s in the cluster source (GET /debug/nodes lists them)', 404);
