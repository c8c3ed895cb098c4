/** /debug/plugins: what is loaded, how it is configured and how it behaves; and recent decisions. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PLUGIN_TYPES, type PluginType } from '../plugins/types.ts';
import { UnknownPluginTypeError } from '../server/errors.ts';

const TraceQuery = Type.Object({
  pod: Type.Optional(Type.String({ minLength: 1 })),
  pool: Type.Optional(Type.String({ minLength: 1 })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
});

/**
 * The most one trace reply carries; newer decisions first, and `omitted` counts those left out (ask
 * with `?limit=`, `?pod=` or `?pool=` for them).
 */
export const TRACE_RESPONSE_MAX_BYTES = 8 * 1024 * 1024;

export const debugRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config, stats, traces } = app.neuronetes;

  app.get('/plugins', async () => {
    const { plugins, loadedAt } = config.current;
    const out: Record<string, unknown> = { configLoadedAt: loadedAt, lastReloadError: config.lastError ?? null };
    for (const type of PLUGIN_TYPES) {
      out[type] = plugins.all(type).map((p) => ({
        name: p.name,
        priority: p.priority,
        weight: p.settings.weight,
        enabled: p.settings.enabled,
        mode: p.settings.mode,
        failurePolicy: p.settings.failurePolicy,
        optional: p.settings.optional,
        timeoutMs: p.settings.timeoutMs,
        source: p.source,
        ...stats.get(type, p.name),
      }));
    }
    return out;
  });

  app.get('/plugins/:type/trace', { schema: { params: Type.Object({ type: Type.String() }), querystring: TraceQuery } }, async (request, reply) => {
    const { type } = request.params;
    if (!(PLUGIN_TYPES as readonly string[]).includes(type)) throw new UnknownPluginTypeError(type, PLUGIN_TYPES.join(', '));
    const q = request.query;
    const decisions = traces[type as PluginType].list({
      ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      ...(q.pod !== undefined ? { subject: q.pod } : {}),
      ...(q.pool !== undefined ? { pool: q.pool } : {}),
    });
    // Serialised here, one decision at a time, so that the reply stops at its bound.
    const parts: string[] = [];
    let bytes = 0;
    for (const decision of decisions) {
      const json = JSON.stringify(decision);
      const size = Buffer.byteLength(json) + 1;
      if (bytes + size > TRACE_RESPONSE_MAX_BYTES - 256) break;
      parts.push(json);
      bytes += size;
    }
    const omitted = decisions.length - parts.length;
    const head = `{"type":${JSON.stringify(type)},"count":${parts.length}${omitted > 0 ? `,"omitted":${omitted}` : ''}`;
    return reply.type('application/json; charset=utf-8').send(`${head},"decisions":[${parts.join(',')}]}`);
  });
};
