/**
 * The one error handler: each service error class answers its status, with `error` the status's name,
 * a stable `code` and the error's own message; errors that carry a status (fastify's, ours) keep it.
 */
import Fastify from 'fastify';
import { pino } from 'pino';
import t from 'tap';
import { Type } from 'typebox';
import { NotFoundError } from '../../src/api/errors.ts';
import { InvalidPoolError } from '../../src/autoscaling/autoscaler-service.ts';
import { MetricInputError } from '../../src/autoscaling/metric-collection.ts';
import { PoolSpecError } from '../../src/autoscaling/scaling-rules.ts';
import { SimulationError } from '../../src/autoscaling/simulation.ts';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { BadToolCallError } from '../../src/guardrails/guardrail-service.ts';
import { ModelLoadError, NoModelLoaderError } from '../../src/models/model-agent.ts';
import { PluginFailure } from '../../src/plugins/plugin-pass.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import { NoCandidatesError } from '../../src/scheduling/extender-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { errorHandler } from '../../src/server/error-handler.ts';
import { AdminOnlyError, BadRequestError, BodyBudgetError, NoTraceError, NotOnThisListenerError } from '../../src/server/errors.ts';
import { namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp, EMPTY_CLUSTER_OBJECTS, type Teardown } from '../helpers/test-app.ts';

interface Case {
  readonly error: Error;
  readonly statusCode: number;
  readonly statusName: string;
  readonly code: string;
}

const cause = new Error('connection reset');
const cases: Record<string, Case> = {
  'unknown pool': { error: new NotFoundError('AgentPool', 'agents/nobody'), statusCode: 404, statusName: 'Not Found', code: 'NN_UNKNOWN_POOL' },
  'unknown model': { error: new NotFoundError('Model', 'models/llama'), statusCode: 404, statusName: 'Not Found', code: 'NN_UNKNOWN_MODEL' },
  'unknown node': {
    error: new NotFoundError('Node', 'gpu-9', 'GET /debug/nodes lists them'),
    statusCode: 404,
    statusName: 'Not Found',
    code: 'NN_UNKNOWN_NODE',
  },
  'no candidates': { error: new NoCandidatesError(), statusCode: 400, statusName: 'Bad Request', code: 'NN_NO_CANDIDATES' },
  'bad tool call': { error: new BadToolCallError('a tool-call check names its tool'), statusCode: 400, statusName: 'Bad Request', code: 'NN_BAD_REQUEST' },
  'metric input': { error: new MetricInputError('metrics: unknown metric "queue-dept"'), statusCode: 400, statusName: 'Bad Request', code: 'NN_BAD_REQUEST' },
  simulation: { error: new SimulationError('series: times must increase'), statusCode: 400, statusName: 'Bad Request', code: 'NN_BAD_REQUEST' },
  'invalid pool': {
    error: new InvalidPoolError({ namespace: 'agents', name: 'chat' }, new PoolSpecError('autoscaling.cooldownPeriod', 'over 24h')),
    statusCode: 400,
    statusName: 'Bad Request',
    code: 'NN_BAD_REQUEST',
  },
  'no model loader': {
    error: new NoModelLoaderError('models/llama', 'ftp://x/y', []),
    statusCode: 422,
    statusName: 'Unprocessable Entity',
    code: 'NN_NO_MODEL_LOADER',
  },
  'model load failed': {
    error: new ModelLoadError('load of models/llama failed: connection reset', 'error', cause),
    statusCode: 502,
    statusName: 'Bad Gateway',
    code: 'NN_MODEL_LOAD_FAILED',
  },
  'model load timed out': {
    error: new ModelLoadError('load of models/llama timed out', 'timeout', cause),
    statusCode: 504,
    statusName: 'Gateway Timeout',
    code: 'NN_MODEL_LOAD_TIMEOUT',
  },
  'plugin failure': {
    error: new PluginFailure('scheduler', 'gpu-fit', 'error', cause),
    statusCode: 500,
    statusName: 'Internal Server Error',
    code: 'NN_PLUGIN_CHAIN_FAILED',
  },
  // Errors that carry their own status keep it.
  'bad request': {
    error: new BadRequestError('"2030-02-31" is not a valid RFC 3339 time'),
    statusCode: 400,
    statusName: 'Bad Request',
    code: 'NN_BAD_REQUEST',
  },
  'admin only': { error: new AdminOnlyError('"now"'), statusCode: 403, statusName: 'Forbidden', code: 'NN_ADMIN_ONLY' },
  'not on this listener': {
    error: new NotOnThisListenerError('/debug/plugins', 'api', 'admin'),
    statusCode: 404,
    statusName: 'Not Found',
    code: 'NN_NOT_ON_THIS_LISTENER',
  },
  'no trace': { error: new NoTraceError('schedulr', 'scheduler'), statusCode: 404, statusName: 'Not Found', code: 'NN_NO_TRACE' },
  'body budget': { error: new BodyBudgetError(1024), statusCode: 503, statusName: 'Service Unavailable', code: 'NN_BODY_BUDGET' },
  // Anything else is the service's fault.
  'plain error': { error: new TypeError('x is undefined'), statusCode: 500, statusName: 'Internal Server Error', code: 'NN_INTERNAL' },
  'a status that is not an error': {
    error: Object.assign(new Error('odd'), { statusCode: 200 }),
    statusCode: 500,
    statusName: 'Internal Server Error',
    code: 'NN_INTERNAL',
  },
};

async function throwingApp(t: Teardown): Promise<ReturnType<typeof Fastify>> {
  const app = Fastify({ loggerInstance: pino({ level: 'silent' }) });
  await app.register(errorHandler);
  app.get('/throw/:name', async (request) => {
    const c = cases[(request.params as { name: string }).name];
    if (c === undefined) throw new Error('no such case');
    throw c.error;
  });
  app.post('/echo', { schema: { body: Type.Object({ n: Type.Integer() }) }, bodyLimit: 64 }, async (request) => request.body);
  t.teardown(() => app.close());
  return app;
}

t.test('every mapped error answers its status, the status name, its code and its message', async (t) => {
  const app = await throwingApp(t);
  for (const [name, c] of Object.entries(cases)) {
    const res = await app.inject(`/throw/${encodeURIComponent(name)}`);
    t.equal(res.statusCode, c.statusCode, name);
    t.same(res.json(), { statusCode: c.statusCode, code: c.code, error: c.statusName, message: c.error.message }, name);
  }
});

t.test("fastify's own errors keep their status and code; a path no route serves is 404 in the same shape", async (t) => {
  const app = await throwingApp(t);
  const invalid = await app.inject({ method: 'POST', url: '/echo', payload: { n: 'three' } });
  t.match(invalid.json(), { statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message: 'body/n must be integer' });
  const large = await app.inject({ method: 'POST', url: '/echo', payload: { n: 1, pad: 'x'.repeat(100) } });
  t.match(large.json(), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', error: 'Payload Too Large' });
  const type = await app.inject({ method: 'POST', url: '/echo', payload: 'n=1', headers: { 'content-type': 'text/csv' } });
  t.match(type.json(), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', error: 'Unsupported Media Type' });
  const nowhere = await app.inject('/nowhere');
  t.same(nowhere.json(), { statusCode: 404, code: 'NN_NO_ROUTE', error: 'Not Found', message: 'no route GET /nowhere' });
});

t.test('the service has one error handler: a second one at the root is refused', async (t) => {
  const log = pino({ level: 'silent' });
  const app = await buildApp({
    cluster: new SnapshotSource({ log, watch: false, objects: EMPTY_CLUSTER_OBJECTS }),
    registry: new PluginRegistry(),
    builtins: false,
    logger: log,
  });
  t.teardown(() => app.close());
  t.throws(() => app.setErrorHandler(() => undefined), { code: 'FST_ERR_ERROR_HANDLER_ALREADY_SET' });
});

t.test('through the service: unknown objects are 404 with their kind in the message, the extender verbs keep the protocol', async (t) => {
  const cluster = { nodes: [node('n1')], pods: [], agentPools: [], agentClasses: [], models: [] };
  const { app } = await buildTestApp(t, { cluster, config: { scheduler: { unknownPool: 'reject' } } });
  const pool = await app.inject({ method: 'POST', url: '/autoscaler/decide', payload: { pool: { namespace: 'agents', name: 'nobody' } } });
  t.same(pool.json(), { statusCode: 404, code: 'NN_UNKNOWN_POOL', error: 'Not Found', message: 'no AgentPool agents/nobody in the cluster source' });
  const why = await app.inject('/pools/agents/nobody/why');
  t.same(why.json(), pool.json(), 'the same error whichever service looked the pool up');
  const guard = await app.inject({ method: 'POST', url: '/guardrails/check', payload: { content: 'hi', pool: { namespace: 'agents', name: 'nobody' } } });
  t.same(guard.json(), pool.json());
  // To kube-scheduler a pod of an unknown pool is an answer (200, its nodes rejected), never an HTTP error.
  const filter = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('p', { pool: 'nobody' }), ['n1']) });
  t.equal(filter.statusCode, 200);
  t.match(filter.json(), { Error: '', FailedAndUnresolvableNodes: { n1: /AgentPool agents\/nobody is unknown/ } });
  const noNodes = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: { Pod: pod('p') } });
  t.match(noNodes.json(), { statusCode: 400, code: 'NN_NO_CANDIDATES', error: 'Bad Request', message: /must carry Nodes/ });
});
