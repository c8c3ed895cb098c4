/** Liveness, readiness and the Prometheus exposition. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const Status = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()), source: Type.Optional(Type.String()) });

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', { schema: { response: { 200: Status } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { response: { 200: Status, 503: Status } } }, async (_request, reply) => {
    const { cluster } = app.neuronetes;
    const r = cluster.readiness();
    if (r.ready) return { status: 'ok', source: cluster.kind };
    return reply.status(503).send({ status: 'not ready', source: cluster.kind, ...(r.reason !== undefined ? { reason: r.reason } : {}) });
  });

  app.get('/metrics', async (_request, reply) => {
    const { registry } = app.neuronetes.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};
