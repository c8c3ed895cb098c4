/**
 * Which listener serves which route. One fastify instance answers on up to three sockets:
 * - `api` (the Service port): kube-scheduler's verbs, autoscaling, guardrails, probes;
 * - `ops` (plain HTTP, no client certificate even when the API port wants one): probes and /metrics;
 * - `admin` (loopback by default, reached with `kubectl port-forward`): everything, including
 *   /debug and the autoscaler's `now`.
 * A route names its listeners in `config.listeners` (default: api and admin). Requests that came
 * through no listener — `app.inject()` in tests and in-process callers — are not restricted.
 */
import type { Server as NetServer, Socket } from 'node:net';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { NotOnThisListenerError } from './errors.ts';

const LISTENERS = ['api', 'ops', 'admin'] as const;
export type Listener = (typeof LISTENERS)[number];

export const ADMIN_ONLY: readonly Listener[] = ['admin'];
export const OPS: readonly Listener[] = ['ops', 'admin'];
export const EVERY_LISTENER: readonly Listener[] = LISTENERS;
const DEFAULT_LISTENERS: readonly Listener[] = ['api', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The listeners that serve this route (default api and admin). */
    listeners?: readonly Listener[];
  }
  interface FastifyRequest {
    /** The listener the request came through; undefined for app.inject(). */
    listener: Listener | undefined;
  }
  interface FastifyInstance {
    /** Marks every connection `server` accepts as coming through `listener`. */
    tagListener(server: NetServer, listener: Listener): void;
  }
}

/** Installs the listener check at the root (call before any route is registered). */
export function installExposure(app: FastifyInstance): void {
  const tags = new WeakMap<Socket, Listener>();
  app.decorate('tagListener', (server: NetServer, listener: Listener) => {
    const tag = (socket: Socket): void => void tags.set(socket, listener);
    server.on('connection', tag);
    // A TLS server hands requests the TLS socket, not the TCP one 'connection' saw.
    server.on('secureConnection', tag);
  });
  app.decorateRequest('listener', undefined);
  app.addHook('onRequest', async (request) => {
    const listener = tags.get(request.raw.socket);
    request.listener = listener;
    if (listener === undefined) return;
    const allowed = request.routeOptions.config.listeners ?? DEFAULT_LISTENERS;
    if (!allowed.includes(listener)) throw new NotOnThisListenerError(request.url, listener, allowed.join(' or '));
  });
}

/** Registers `plugin` with every one of its routes served only on `listeners`. */
export function servedOn<O extends Record<string, unknown>>(listeners: readonly Listener[], plugin: FastifyPluginAsync<O>): FastifyPluginAsync<O> {
  return async (scope, options) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, listeners };
    });
    // Called, not registered: a registration would apply the caller's prefix a second time.
    await plugin(scope, options);
  };
}

/** True unless the request came through the API listener, where admin-only options are refused. */
export const isAdminCaller = (request: FastifyRequest): boolean => request.listener !== 'api';
