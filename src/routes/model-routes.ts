/**
 * The node agent's model cache: POST /models/load and /models/unload name a Model of the cluster
 * source; GET /models lists what the cache holds. Loads answer when the model is on disk (or not).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import createError from '@fastify/error';
import { Type } from 'typebox';
import { MODEL_NAME_PATTERN } from '../models/model-cache.ts';
import { ModelLoadError, NoModelLoaderError, UnknownModelError, type ModelAgent } from '../models/model-agent.ts';
import { PluginFailure } from '../plugins/plugin-pass.ts';
import { PluginChainError } from '../server/errors.ts';

export const UnknownModelHttpError = createError<[string]>('NN_UNKNOWN_MODEL', '%s', 404);
export const NoModelLoaderHttpError = createError<[string]>('NN_NO_MODEL_LOADER', '%s', 422);
export const ModelLoadFailedError = createError<[string]>('NN_MODEL_LOAD_FAILED', '%s', 502);
export const ModelLoadTimeoutError = createError<[string]>('NN_MODEL_LOAD_TIMEOUT', '%s', 504);

export const ModelRequest = Type.Object(
  {
    name: Type.String({ pattern: MODEL_NAME_PATTERN }),
    namespace: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const ModelOpResult = Type.Object({
  model: Type.String(),
  namespace: Type.String(),
  node: Type.String(),
  status: Type.Enum(['loaded', 'already-cached', 'unloaded', 'not-cached']),
  loader: Type.Union([Type.String(), Type.Null()]),
  path: Type.String(),
  durationMs: Type.Number(),
  files: Type.Optional(Type.Integer()),
  bytes: Type.Optional(Type.Integer()),
});

const CachedModelList = Type.Object({
  node: Type.String(),
  cacheDir: Type.String(),
  models: Type.Array(
    Type.Object({ name: Type.String(), path: Type.String(), files: Type.Integer(), bytes: Type.Integer(), cachedAt: Type.String() }),
  ),
});

function toHttpError(e: unknown): unknown {
  if (e instanceof UnknownModelError) return new UnknownModelHttpError(e.message);
  if (e instanceof NoModelLoaderError) return new NoModelLoaderHttpError(e.message);
  if (e instanceof ModelLoadError) return e.kind === 'timeout' ? new ModelLoadTimeoutError(e.message) : new ModelLoadFailedError(e.message);
  if (e instanceof PluginFailure) return new PluginChainError(e.message);
  return e;
}

export const modelRoutes: FastifyPluginAsyncTypebox<{ agent: ModelAgent }> = async (app, { agent }) => {
  app.get('/', { schema: { response: { 200: CachedModelList } } }, async () => ({ node: agent.nodeName, cacheDir: agent.cache.dir, models: await agent.list() }));

  app.post('/load', { schema: { body: ModelRequest, response: { 200: ModelOpResult } } }, async (request) => {
    try {
      return await agent.load(request.body, request.log);
    } catch (e: unknown) {
      throw toHttpError(e);
    }
  });

  app.post('/unload', { schema: { body: ModelRequest, response: { 200: ModelOpResult } } }, async (request) => {
    try {
      return await agent.unload(request.body, request.log);
    } catch (e: unknown) {
      throw toHttpError(e);
    }
  });
};
