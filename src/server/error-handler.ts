/**
 * The service's one error handler: every route throws its service's own errors, and this maps them to
 * an HTTP status and a stable `code`. The body is `{statusCode, code, error, message}`, `error` being
 * the status's name. The extender verbs answer domain failures in a 200 reply's `Error` field
 * themselves (kube-scheduler discards the body of any other status); what reaches here from them is
 * a body that is not the verb's arguments, or a failure of a verb whose reply has no `Error` field.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { NotFoundError } from '../api/errors.ts';
import { InvalidPoolError } from '../autoscaling/autoscaler-service.ts';
import { MetricInputError } from '../autoscaling/metric-collection.ts';
import { SimulationError } from '../autoscaling/simulation.ts';
import { BadToolCallError } from '../guardrails/guardrail-service.ts';
import { ModelLoadError, NoModelLoaderError } from '../models/model-agent.ts';
import { PluginFailure } from '../plugins/plugin-pass.ts';
import { NoCandidatesError } from '../scheduling/extender-service.ts';

/** Every error reply; routes list it under their error statuses. */
export const ErrorBody = Type.Object({ statusCode: Type.Integer(), code: Type.String(), error: Type.String(), message: Type.String() });

interface HttpShape {
  readonly status: number;
  readonly code: string;
}

/** One class's mapping: its shape for an error of that class, undefined for any other. */
type ErrorMapping = (error: Error) => HttpShape | undefined;

const maps =
  <E extends Error>(type: abstract new (...args: never[]) => E, shape: (error: E) => HttpShape): ErrorMapping =>
  (error) =>
    error instanceof type ? shape(error) : undefined;
const fixed =
  (status: number, code: string): (() => HttpShape) =>
  () => ({ status, code });

/**
 * The service's errors by class. The caller's mistakes are 4xx; a `failurePolicy: Fail` plugin that
 * failed is 500 (the request could not be answered); a model store that failed or timed out is 502/504.
 */
const ERROR_MAPPINGS: readonly ErrorMapping[] = [
  maps(NotFoundError, (e) => ({ status: 404, code: e.code })),
  maps(NoCandidatesError, fixed(400, 'NN_NO_CANDIDATES')),
  maps(BadToolCallError, fixed(400, 'NN_BAD_REQUEST')),
  maps(MetricInputError, fixed(400, 'NN_BAD_REQUEST')),
  maps(SimulationError, fixed(400, 'NN_BAD_REQUEST')),
  // A pool spec the autoscaler cannot use, stored or sent: the pool owner's to fix, not the service's.
  maps(InvalidPoolError, fixed(400, 'NN_BAD_REQUEST')),
  maps(NoModelLoaderError, fixed(422, 'NN_NO_MODEL_LOADER')),
  maps(ModelLoadError, (e) => (e.kind === 'timeout' ? { status: 504, code: 'NN_MODEL_LOAD_TIMEOUT' } : { status: 502, code: 'NN_MODEL_LOAD_FAILED' })),
  maps(PluginFailure, fixed(500, 'NN_PLUGIN_CHAIN_FAILED')),
];

/** A mapped class's shape, else the error's own statusCode (fastify's and @fastify/error's), else 500. */
function httpShapeOf(error: Error & Partial<Pick<FastifyError, 'statusCode' | 'code'>>): HttpShape {
  for (const mapping of ERROR_MAPPINGS) {
    const shape = mapping(error);
    if (shape !== undefined) return shape;
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status <= 599) return { status, code: error.code ?? 'NN_INTERNAL' };
  return { status: 500, code: 'NN_INTERNAL' };
}

const errorHandling: FastifyPluginAsync = async (app) => {
  app.setErrorHandler((error: Error, request, reply) => {
    const { status, code } = httpShapeOf(error);
    // 503 is the body budget turning a request away: load, not a fault.
    if (status >= 500 && status !== 503) request.log.error({ err: error }, 'request failed');
    else request.log.info({ err: error.message, code }, 'request refused');
    return reply.status(status).send({ statusCode: status, code, error: STATUS_CODES[status] ?? 'Error', message: error.message });
  });
  // A path no route serves answers in the same shape.
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ statusCode: 404, code: 'NN_NO_ROUTE', error: 'Not Found', message: `no route ${request.method} ${request.url}` }),
  );
};

/** Registered once, at the root, before any route. */
export const errorHandler = fp(errorHandling, { name: 'neuronetes-errors', fastify: '5.x' });
