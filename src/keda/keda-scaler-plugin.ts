/**
 * Serves KEDA's ExternalScaler gRPC interface on a port of its own beside the HTTP API: bound in
 * the app's onReady, shut down in its onClose (open streams are ended first, or the server would
 * wait for them forever). `app.kedaScaler.port` is the bound port (useful with port 0).
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import { loadExternalScaler } from './external-scaler-proto.ts';
import { ExternalScaler } from './external-scaler.ts';

export interface KedaScalerOptions {
  port: number;
  host: string;
  /** StreamIsActive pushes at least this often; default 15 s (KEDA's default pollingInterval). */
  streamIntervalMs?: number;
  /** The serve TLS material: with `clientCa`, clients must present a certificate it signed. */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
}

export const DEFAULT_STREAM_INTERVAL_MS = 15_000;
/** How long in-flight unary calls may finish after close before they are cut off. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface KedaScalerHandle {
  /** The bound port once the app is ready. */
  readonly port: number | undefined;
  readonly openStreams: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    kedaScaler: KedaScalerHandle;
  }
}

function credentialsOf(tls: KedaScalerOptions['tls']): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined);
}

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, SHUTDOWN_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

const kedaScaler: FastifyPluginAsync<KedaScalerOptions> = async (app, options) => {
  const { autoscaler, cluster, metrics } = app.neuronetes;
  const registers = [metrics.registry];
  const scaler = new ExternalScaler({
    autoscaler,
    cluster,
    log: app.log.child({ component: 'keda-external-scaler' }),
    streamIntervalMs: options.streamIntervalMs ?? DEFAULT_STREAM_INTERVAL_MS,
    requests: new Counter({
      name: 'neuronetes_keda_requests_total',
      help: 'KEDA external scaler calls by method and gRPC status code',
      labelNames: ['method', 'code'] as const,
      registers,
    }),
    streams: new Gauge({ name: 'neuronetes_keda_streams', help: 'Open StreamIsActive calls', registers }),
  });
  const server = new Server();
  server.addService(loadExternalScaler().service, scaler.handlers);
  let port: number | undefined;
  app.decorate('kedaScaler', {
    get port() {
      return port;
    },
    get openStreams() {
      return scaler.openStreams;
    },
  });

  app.addHook('onReady', async () => {
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${options.port}`, credentialsOf(options.tls), (err, bound) => (err === null ? resolve(bound) : reject(err)));
    });
    app.log.info({ port, tls: options.tls !== undefined }, 'KEDA external scaler listening');
  });
  app.addHook('onClose', async () => {
    scaler.endStreams('NeuroNetes is shutting down');
    await shutdown(server);
  });
};

export const kedaScalerPlugin = fp(kedaScaler, { name: 'neuronetes-keda-scaler' });
