/**
 * /debug/plugins: what is loaded, how it is configured and how it behaves; and recent decisions.
 * /debug/nodes: the nodes' facts as the built-in scheduler plugins see them, with the label each came
 * from; the same picture is logged as a census of GPU nodes at start-up and on cluster changes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { censusLine, describeNode, gpuCensus, type PluginConfigs } from '../../extenders/builtin/scheduler/node-report.ts';
import { NotFoundError } from '../api/errors.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import type { TraceEntry } from '../observability/trace-buffer.ts';
import { PLUGIN_TYPES } from '../plugins/types.ts';
import { NoTraceError } from '../server/errors.ts';
import type { NeuroNetesServices, Traces } from '../server/services.ts';

/** A busy cluster changes many times a second: the census is taken at most this often. */
const CENSUS_DELAY_MS = 1000;

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

/**
 * Logs the GPU census at start-up and after cluster changes, at most once a CENSUS_DELAY_MS and only
 * when its line differs from the last one (a pod bound changes nothing in it).
 */
function logCensus(app: FastifyInstance): void {
  const { cluster } = app.neuronetes;
  let lastCensus: string | undefined;
  let pending: NodeJS.Timeout | undefined;
  const takeCensus = (view: ClusterView): void => {
    const census = gpuCensus(view);
    const line = censusLine(census);
    if (line === lastCensus) return;
    lastCensus = line;
    app.log.info({ gpuNodes: census.recognised, unknownFacts: census.unknown.slice(0, 20) }, line);
  };
  const unsubscribe = cluster.onChange(() => {
    pending ??= setTimeout(() => {
      pending = undefined;
      takeCensus(cluster.view());
    }, CENSUS_DELAY_MS).unref();
  });
  app.addHook('onReady', async () => takeCensus(cluster.view()));
  app.addHook('onClose', async () => {
    unsubscribe();
    clearTimeout(pending);
  });
}

/** Every loaded plugin by type, with its settings and live stats. */
function pluginListing({ config, stats }: NeuroNetesServices): Record<string, unknown> {
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
      optional: p.settings.optional,
      timeoutMs: p.settings.timeoutMs,
      source: p.source,
      ...stats.get(type, p.name),
    }));
  }
  return out;
}

/** The trace reply, serialised one decision at a time so that it stops at TRACE_RESPONSE_MAX_BYTES. */
function traceJson(type: string, decisions: readonly TraceEntry[]): string {
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
  return `${head},"decisions":[${parts.join(',')}]}`;
}

export const debugRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { cluster, config, traces, runtime } = app.neuronetes;

  /** Each built-in's context with its configured `config:` (what it runs with), for describeNode. */
  const configs: PluginConfigs = (plugin) => ({
    signal: AbortSignal.timeout(1000),
    log: runtime.log,
    config: config.current.plugins.all('scheduler').find((p) => p.name === plugin)?.settings.config ?? {},
  });

  logCensus(app);

  app.get('/nodes', async () => ({
    nodes: cluster
      .view()
      .nodes()
      .map((n) => n.metadata.name),
    census: gpuCensus(cluster.view()),
  }));

  app.get('/nodes/:name', { schema: { params: Type.Object({ name: Type.String({ minLength: 1 }) }) } }, async (request) => {
    const view = cluster.view();
    const node = view.node(request.params.name);
    if (node === undefined) throw new NotFoundError('Node', request.params.name, 'GET /debug/nodes lists them');
    return describeNode(view, node, configs);
  });

  app.get('/plugins', async () => pluginListing(app.neuronetes));

  app.get('/plugins/:type/trace', { schema: { params: Type.Object({ type: Type.String() }), querystring: TraceQuery } }, async (request, reply) => {
    const { type } = request.params;
    if (!Object.hasOwn(traces, type))
      throw new NoTraceError(type, `${Object.keys(traces).join(', ')} (metrics-provider calls show in each autoscaler decision's providers)`);
    const q = request.query;
    const decisions = traces[type as keyof Traces].list({
      ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      ...(q.pod !== undefined ? { subject: q.pod } : {}),
      ...(q.pool !== undefined ? { pool: q.pool } : {}),
    });
    return reply.type('application/json; charset=utf-8').send(traceJson(type, decisions));
  });
};
