/**
 * The ExternalScaler RPCs on top of AutoscalerService. Every IsActive, GetMetrics and stream tick is
 * one decision made exactly as GET /autoscaler/pools makes it — recorded, traced, in the metrics —
 * so KEDA's HPA (AverageValue target 1) lands on `desiredReplicas` and no second policy runs here.
 */
import {
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerWritableStream,
  type StatusObject,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { FastifyBaseLogger } from 'fastify';
import type { Counter, Gauge } from 'prom-client';
import type { PoolRef } from '../autoscaling/autoscaler-state.ts';
import { NotFoundError } from '../api/errors.ts';
import { InvalidPoolError, type AutoscalerService } from '../autoscaling/autoscaler-service.ts';
import type { ClusterSource } from '../cluster/cluster-source.ts';
import { PluginFailure } from '../plugins/plugin-pass.ts';
import type { GetMetricSpecResponse, GetMetricsRequest, GetMetricsResponse, IsActiveResponse, ScaledObjectRef } from './external-scaler-proto.ts';
import { metricNameOf, poolOf, ScalerMetadataError } from './scaled-pool.ts';

export interface ExternalScalerDeps {
  readonly autoscaler: AutoscalerService;
  readonly cluster: ClusterSource;
  readonly log: FastifyBaseLogger;
  /** StreamIsActive pushes at least this often (ms). */
  readonly streamIntervalMs: number;
  readonly requests: Counter<'method' | 'code'>;
  readonly streams: Gauge;
}

export interface ExternalScalerHandlers extends UntypedServiceImplementation {
  IsActive: handleUnaryCall<ScaledObjectRef, IsActiveResponse>;
  StreamIsActive: handleServerStreamingCall<ScaledObjectRef, IsActiveResponse>;
  GetMetricSpec: handleUnaryCall<ScaledObjectRef, GetMetricSpecResponse>;
  GetMetrics: handleUnaryCall<GetMetricsRequest, GetMetricsResponse>;
}

type GrpcStatus = Pick<StatusObject, 'code' | 'details'>;

/**
 * NOT_FOUND and INVALID_ARGUMENT are the caller's to fix, FAILED_PRECONDITION the pool's owner's (a
 * spec the autoscaler cannot use); a failing `Fail` plugin may recover (UNAVAILABLE).
 */
function statusOf(e: unknown, log: FastifyBaseLogger): GrpcStatus {
  if (e instanceof ScalerMetadataError) return { code: status.INVALID_ARGUMENT, details: e.message };
  if (e instanceof NotFoundError) return { code: status.NOT_FOUND, details: e.message };
  if (e instanceof InvalidPoolError) return { code: status.FAILED_PRECONDITION, details: e.message };
  if (e instanceof PluginFailure) return { code: status.UNAVAILABLE, details: e.message };
  log.error({ err: e }, 'KEDA external scaler: decision failed');
  return { code: status.INTERNAL, details: `decision failed: ${e instanceof Error ? e.message : String(e)}` };
}

/**
 * Active means the decision wants replicas. The decision is clamped to the pool's minReplicas, so a
 * pool with minReplicas > 0 is always active; one with minReplicas 0 goes idle (KEDA scales it to
 * zero) only when the decision itself reaches 0 — never on missing metrics, which hold the count.
 */
async function isActive(deps: ExternalScalerDeps, pool: PoolRef): Promise<boolean> {
  const decision = await deps.autoscaler.decide({ pool });
  return decision.desiredReplicas > 0;
}

/** One StreamIsActive call: pushes on open, on every interval, and when the pool object changes. */
class ActivityStream {
  readonly #call: ServerWritableStream<ScaledObjectRef, IsActiveResponse>;
  readonly #pool: PoolRef;
  readonly #deps: ExternalScalerDeps;
  readonly #onEnd: (s: ActivityStream) => void;
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  // Evaluations run one after another, so pushes leave in the order they were decided.
  #queue: Promise<void> = Promise.resolve();
  #last: boolean | undefined;
  #poolSeen: string;
  #ended = false;

  constructor(call: ServerWritableStream<ScaledObjectRef, IsActiveResponse>, pool: PoolRef, deps: ExternalScalerDeps, onEnd: (s: ActivityStream) => void) {
    this.#call = call;
    this.#pool = pool;
    this.#deps = deps;
    this.#onEnd = onEnd;
    this.#poolSeen = this.#snapshotOfPool();
    call.on('cancelled', () => this.#end());
    this.#timer = setInterval(() => this.#evaluate(true), deps.streamIntervalMs);
    this.#unsubscribe = deps.cluster.onChange(() => {
      const seen = this.#snapshotOfPool();
      if (seen === this.#poolSeen) return;
      this.#poolSeen = seen;
      this.#evaluate(false);
    });
    this.#evaluate(true);
  }

  /** Ends the call with an error status (the client sees it; KEDA reconnects with backoff). */
  fail(s: GrpcStatus): void {
    if (this.#ended) return;
    this.#end();
    this.#call.emit('error', s);
  }

  #snapshotOfPool(): string {
    return JSON.stringify(this.#deps.cluster.view().pool(this.#pool.namespace, this.#pool.name) ?? null);
  }

  #evaluate(always: boolean): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#ended) return;
      try {
        const active = await isActive(this.#deps, this.#pool);
        if (this.#ended || (!always && active === this.#last)) return;
        this.#last = active;
        this.#call.write({ result: active });
      } catch (e: unknown) {
        this.fail(statusOf(e, this.#deps.log));
      }
    });
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#timer);
    this.#unsubscribe();
    this.#onEnd(this);
  }
}

export class ExternalScaler {
  readonly #deps: ExternalScalerDeps;
  readonly #streams = new Set<ActivityStream>();

  constructor(deps: ExternalScalerDeps) {
    this.#deps = deps;
  }

  get handlers(): ExternalScalerHandlers {
    return {
      IsActive: this.#unary('IsActive', async (ref: ScaledObjectRef) => ({ result: await isActive(this.#deps, poolOf(ref)) })),
      GetMetricSpec: this.#unary('GetMetricSpec', async (ref: ScaledObjectRef) => {
        const pool = poolOf(ref);
        this.#deps.autoscaler.resolvePool(pool);
        return { metricSpecs: [{ metricName: metricNameOf(pool), targetSize: 1, targetSizeFloat: 1 }] };
      }),
      GetMetrics: this.#unary('GetMetrics', async (request: GetMetricsRequest) => {
        if (request.scaledObjectRef === null) throw new ScalerMetadataError('GetMetricsRequest has no scaledObjectRef');
        const pool = poolOf(request.scaledObjectRef);
        const metricName = metricNameOf(pool);
        if (request.metricName !== '' && request.metricName !== metricName) {
          throw new ScalerMetadataError(
            `unknown metric ${JSON.stringify(request.metricName)}: this scaler serves ${metricName} for ${pool.namespace}/${pool.name}`,
          );
        }
        const { desiredReplicas } = await this.#deps.autoscaler.decide({ pool });
        return { metricValues: [{ metricName, metricValue: desiredReplicas, metricValueFloat: desiredReplicas }] };
      }),
      StreamIsActive: (call) => this.#openStream(call),
    };
  }

  /** Open StreamIsActive calls (for shutdown and the streams gauge). */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** Ends every open stream with UNAVAILABLE so the server can shut down. */
  endStreams(details: string): void {
    for (const s of [...this.#streams]) s.fail({ code: status.UNAVAILABLE, details });
  }

  #openStream(call: ServerWritableStream<ScaledObjectRef, IsActiveResponse>): void {
    let pool: PoolRef;
    try {
      pool = poolOf(call.request);
      this.#deps.autoscaler.resolvePool(pool);
    } catch (e: unknown) {
      const s = statusOf(e, this.#deps.log);
      this.#count('StreamIsActive', s.code);
      call.emit('error', s);
      return;
    }
    this.#count('StreamIsActive', status.OK);
    const stream = new ActivityStream(call, pool, this.#deps, (s) => {
      this.#streams.delete(s);
      this.#deps.streams.set(this.#streams.size);
    });
    this.#streams.add(stream);
    this.#deps.streams.set(this.#streams.size);
  }

  #unary<Req, Res>(method: string, run: (request: Req) => Promise<Res>): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      run(call.request).then(
        (response) => {
          this.#count(method, status.OK);
          callback(null, response);
        },
        (e: unknown) => {
          const s = statusOf(e, this.#deps.log);
          this.#count(method, s.code);
          callback(s, null);
        },
      );
    };
  }

  #count(method: string, code: status): void {
    this.#deps.requests.inc({ method, code: status[code] });
  }
}
