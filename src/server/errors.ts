/** The service's HTTP errors: one factory per code, stable `code` in every error body. */
import createError from '@fastify/error';

export const UnknownPluginTypeError = createError<[string, string]>('NN_UNKNOWN_PLUGIN_TYPE', 'unknown plugin type "%s"; one of %s', 404);
export const NoCandidatesHttpError = createError<[string]>('NN_NO_CANDIDATES', '%s', 400);
export const PluginChainError = createError<[string]>('NN_PLUGIN_CHAIN_FAILED', '%s', 500);
export const UnknownPoolError = createError<[string]>('NN_UNKNOWN_POOL', 'no AgentPool %s in the cluster source', 404);
export const BadRequestError = createError<[string]>('NN_BAD_REQUEST', '%s', 400);
export const UnknownNodeError = createError<[string]>('NN_UNKNOWN_NODE', 'no node %s in the cluster source (GET /debug/nodes lists them)', 404);
