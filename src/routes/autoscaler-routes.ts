/**
 * The autoscaling decision endpoints: POST /autoscaler/decide, GET /autoscaler/pools/:namespace/:name
 * (the same decision for tools that can only GET, such as KEDA's metrics-api trigger), and
 * POST /autoscaler/simulate.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AgentPool, AgentPoolSpec } from '../api/neuronetes.ts';
import type { PoolInput } from '../autoscaling/autoscaler-service.ts';
import { STAGES } from '../autoscaling/decision.ts';
import { MAX_REPLICAS } from '../autoscaling/replica-calculator.ts';
import { SIMULATION_LIMITS, simulate } from '../autoscaling/simulation.ts';
import { ErrorBody } from '../server/error-handler.ts';
import { AdminOnlyError, BadRequestError } from '../server/errors.ts';
import { isAdminCaller } from '../server/exposure.ts';

const RFC3339 = '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$';
const Time = Type.String({ pattern: RFC3339, description: 'RFC 3339' });
const PoolRef = Type.Object({ namespace: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }) }, { additionalProperties: false });
const Pool = Type.Union([PoolRef, AgentPool], { description: 'a reference {namespace, name} to a pool in the cluster source, or a whole AgentPool' });
const MetricValues = Type.Record(Type.String({ minLength: 1 }), Type.Number({ minimum: 0 }), {
  description: 'metric type → value (latencies in seconds), never negative',
});
const Replicas = Type.Integer({ minimum: 0, maximum: MAX_REPLICAS });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const DecideBody = Type.Object(
  {
    pool: Pool,
    currentReplicas: Type.Optional(Replicas),
    metrics: Type.Optional(MetricValues),
    now: Type.Optional(Time),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const DecideQuery = Type.Object(
  {
    currentReplicas: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' })),
    now: Type.Optional(Time),
    dryRun: Type.Optional(Type.Enum(['true', 'false'])),
  },
  { additionalProperties: false },
);

/** The decision reply (exported for tests that check replies against it). */
export const Decision = Type.Object({
  pool: PoolRef,
  time: Type.String(),
  dryRun: Type.Boolean(),
  currentReplicas: Type.Integer(),
  desiredReplicas: Type.Integer(),
  placeableReplicas: Type.Union([Type.Integer(), Type.Null()]),
  shortfall: NullableString,
  reason: Type.String(),
  message: Type.String(),
  metrics: Type.Array(
    Type.Object({
      type: Type.String(),
      kind: Type.String(),
      target: Type.String(),
      targetValue: NullableNumber,
      value: NullableNumber,
      status: Type.String(),
      source: NullableString,
      reason: Type.Optional(Type.String()),
      ratio: NullableNumber,
      replicas: NullableNumber,
      averagingWindow: Type.Optional(Type.String()),
      samples: Type.Optional(Type.Integer()),
    }),
  ),
  providers: Type.Array(
    Type.Object({ plugin: Type.String(), metrics: Type.Array(Type.String()), durationMs: Type.Number(), errors: Type.Integer(), timeouts: Type.Integer() }),
  ),
  recommendations: Type.Array(
    Type.Object({
      plugin: Type.String(),
      priority: Type.Integer(),
      mode: Type.String(),
      status: Type.String(),
      replicas: NullableNumber,
      metricNames: Type.Array(Type.String()),
      durationMs: Type.Number(),
      error: Type.Optional(Type.String()),
      chosen: Type.Boolean(),
    }),
  ),
  combine: Type.Object({ policy: Type.String(), chosen: NullableString, replicas: NullableNumber, message: Type.String() }),
  stages: Type.Array(
    Type.Object({ stage: Type.Enum([...STAGES]), input: Type.Integer(), output: Type.Integer(), reason: Type.String(), message: Type.String() }),
  ),
  nextScaleUpAt: NullableString,
  nextScaleDownAt: NullableString,
});

const SimulateBody = Type.Object(
  {
    pool: Pool,
    autoscaling: Type.Optional(AgentPoolSpec.properties.autoscaling),
    startReplicas: Type.Optional(Replicas),
    start: Type.Optional(Time),
    stepSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: SIMULATION_LIMITS.stepSeconds })),
    series: Type.Array(
      Type.Object(
        { t: Type.Optional(Type.Number({ minimum: 0, maximum: SIMULATION_LIMITS.seconds })), metrics: MetricValues },
        { additionalProperties: false },
      ),
      {
        minItems: 1,
        maxItems: 10_000,
      },
    ),
  },
  { additionalProperties: false },
);

export const Simulation = Type.Object({
  pool: PoolRef,
  steps: Type.Array(
    Type.Object({
      t: Type.Number(),
      time: Type.String(),
      currentReplicas: Type.Integer(),
      desiredReplicas: Type.Integer(),
      reason: Type.String(),
      overTarget: Type.Boolean(),
    }),
  ),
  scaleEvents: Type.Array(Type.Object({ t: Type.Number(), time: Type.String(), from: Type.Integer(), to: Type.Integer(), reason: Type.String() })),
  summary: Type.Object({
    durationSeconds: Type.Number(),
    timeOverTargetSeconds: Type.Number(),
    replicaHours: Type.Number(),
    gpuHours: Type.Number(),
    gpusPerReplica: Type.Number(),
    minReplicas: Type.Integer(),
    maxReplicas: Type.Integer(),
    scaleUps: Type.Integer(),
    scaleDowns: Type.Integer(),
  }),
});

/**
 * A decision's `now` is recorded in the pool's history: one from the future freezes its scaling
 * until then. Only the admin listener may set it (replays, tests); the API listener refuses it.
 */
function decisionTime(request: FastifyRequest, text: string | undefined): number | undefined {
  if (text !== undefined && !isAdminCaller(request)) throw new AdminOnlyError('"now"');
  return parseTime(text);
}

function parseTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  // Date.parse rolls 2030-02-31 over to March: the calendar date must survive the round trip.
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  if (!Number.isFinite(ms) || new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d)
    throw new BadRequestError(`${JSON.stringify(text)} is not a valid RFC 3339 time`);
  return ms;
}

/** The GET's `?currentReplicas=`: digits (the schema's pattern), at most MAX_REPLICAS. */
function parseReplicas(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (n > MAX_REPLICAS) throw new BadRequestError(`querystring/currentReplicas must be <= ${MAX_REPLICAS}`);
  return n;
}

export const autoscalerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { autoscaler } = app.neuronetes;
  // An unknown pool is 404, a failing `Fail` plugin 500; bad metric keys, bad simulations and a pool
  // spec the autoscaler cannot use are 400 (error-handler.ts).
  const errors = { 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 500: ErrorBody };

  app.post('/decide', { schema: { body: DecideBody, response: { 200: Decision, ...errors } } }, (request) => {
    const b = request.body;
    const now = decisionTime(request, b.now);
    return autoscaler.decide({
      pool: b.pool as PoolInput,
      ...(b.currentReplicas !== undefined ? { currentReplicas: b.currentReplicas } : {}),
      ...(b.metrics !== undefined ? { metrics: b.metrics } : {}),
      ...(now !== undefined ? { now } : {}),
      dryRun: b.dryRun === true,
    });
  });

  app.get(
    '/pools/:namespace/:name',
    {
      schema: {
        params: Type.Object({ namespace: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }) }),
        querystring: DecideQuery,
        response: { 200: Decision, ...errors },
      },
    },
    (request) => {
      const q = request.query;
      const now = decisionTime(request, q.now);
      const currentReplicas = parseReplicas(q.currentReplicas);
      return autoscaler.decide({
        pool: { namespace: request.params.namespace, name: request.params.name },
        ...(currentReplicas !== undefined ? { currentReplicas } : {}),
        ...(now !== undefined ? { now } : {}),
        dryRun: q.dryRun === 'true',
      });
    },
  );

  app.post('/simulate', { schema: { body: SimulateBody, response: { 200: Simulation, ...errors } } }, (request) => {
    const b = request.body;
    const start = parseTime(b.start);
    return simulate(autoscaler, {
      pool: b.pool as PoolInput,
      series: b.series,
      ...(b.autoscaling !== undefined ? { autoscaling: b.autoscaling } : {}),
      ...(b.startReplicas !== undefined ? { startReplicas: b.startReplicas } : {}),
      ...(start !== undefined ? { start } : {}),
      ...(b.stepSeconds !== undefined ? { stepSeconds: b.stepSeconds } : {}),
    });
  });
};
