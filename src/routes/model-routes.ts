/**
 * The node agent's model cache: POST /models/load and /models/unload name a Model of the cluster
 * source; GET /models lists what the cache holds. Loads answer when the model is on disk (or not).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { MODEL_NAME_PATTERN } from '../models/model-cache.ts';
import type { ModelAgent } from '../models/model-agent.ts';

const ModelRequest = Type.Object(
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
  models: Type.Array(Type.Object({ name: Type.String(), path: Type.String(), files: Type.Integer(), bytes: Type.Integer(), cachedAt: Type.String() })),
});

export const modelRoutes: FastifyPluginAsyncTypebox<{ agent: ModelAgent }> = async (app, { agent }) => {
  app.get('/', { schema: { response: { 200: CachedModelList } } }, async () => ({
    node: agent.nodeName,
    cacheDir: agent.cache.dir,
    models: await agent.list(),
  }));

  // Errors: an unknown model 404, no loader for it 422, a load that failed 502 or timed out 504 (error-handler.ts).
  app.post('/load', { schema: { body: ModelRequest, response: { 200: ModelOpResult } } }, (request) => agent.load(request.body, request.log));

  app.post('/unload', { schema: { body: ModelRequest, response: { 200: ModelOpResult } } }, (request) => agent.unload(request.body, request.log));
};
