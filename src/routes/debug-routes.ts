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
        ...(p.settings.off !== undefined ? { off: p.settings.off } : {}),
        mode: p.settings.mode,
        failurePolicy: p.settings.failurePolicy,
        timeoutMs: p.settings.timeoutMs,
        source: p.source,
        ...stats.get(type, p.name),
      }));
    }
    return out;
  });

  app.get('/plugins/:type/trace', { schema: { params: Type.Object({ type: Type.String() }), querystring: TraceQuery } }, async (request) => {
    const { type } = request.params;
    if (!(PLUGIN_TYPES as readonly string[]).includes(type)) throw new UnknownPluginTypeError(type, PLUGIN_TYPES.join(', '));
    const q = request.query;
    const decisions = traces[type as PluginType].list({
      ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      ...(q.pod !== undefined ? { subject: q.pod } : {}),
      ...(q.pool !== undefined ? { pool: q.pool } : {}),
    });
    return { type, count: decisions.length, decisions };
  });
};
