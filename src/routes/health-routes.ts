/**
 * Liveness, readiness and the Prometheus exposition. Probes answer on every listener; /metrics only
 * on ops and admin, so scraping never needs the API port's client certificate.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { EVERY_LISTENER, OPS } from '../server/exposure.ts';

const Status = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()), source: Type.Optional(Type.String()) });

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', { config: { listeners: EVERY_LISTENER }, schema: { response: { 200: Status } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { listeners: EVERY_LISTENER }, schema: { response: { 200: Status, 503: Status } } }, async (_request, reply) => {
    const { cluster } = app.neuronetes;
    const r = cluster.readiness();
    if (r.ready) return { status: 'ok', source: cluster.kind };
    return reply.status(503).send({ status: 'not ready', source: cluster.kind, ...(r.reason !== undefined ? { reason: r.reason } : {}) });
  });

  app.get('/metrics', { config: { listeners: OPS } }, async (_request, reply) => {
    const { registry } = app.neuronetes.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};
