/**
 * Starting and stopping the service's sockets: the API listener (fastify's own server, HTTP or
 * HTTPS/mTLS) and the plain-HTTP ops and admin listeners, which hand their requests to the same
 * fastify instance. A socket that cannot be bound fails the start at once, naming the listener.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Listener } from './exposure.ts';

export interface Address {
  host: string;
  port: number;
}

export interface ListenerPlan {
  api: Address;
  ops?: Address;
  admin?: Address;
}

/** How long a request may take to arrive, headers and body: kube-scheduler gives up after 5 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Node's http server options for a request timeout enforced within a second, not its default 30 s sweep. */
export function httpTimeouts(requestTimeoutMs: number): { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number } {
  return { requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs) };
}

export class ListenError extends Error {
  constructor(listener: Listener, address: Address, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : (cause as Error).message;
    super(`cannot listen on ${address.host}:${address.port} (${listener} listener): ${why}`, { cause });
    this.name = 'ListenError';
  }
}

export interface Listening {
  /** Where each listener ended up (port 0 picks a free one). */
  readonly addresses: Partial<Record<Listener, Address>>;
  /**
   * Stops accepting on every listener, lets requests in flight finish, and closes the app. After
   * `drainMs` the connections still open are cut; resolves false when that was needed.
   */
  close(drainMs: number): Promise<boolean>;
}

function bind(server: Server, { host, port }: Address): Promise<Address> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ host, port: (server.address() as AddressInfo).port });
    });
  });
}

/** Listens on every listener in `plan`; on any failure, closes what was opened and throws a ListenError. */
export async function listenAll(app: FastifyInstance, plan: ListenerPlan, requestTimeoutMs: number): Promise<Listening> {
  const extra: Server[] = [];
  const addresses: Partial<Record<Listener, Address>> = {};
  const closeExtra = (): Promise<unknown> =>
    Promise.all(
      extra.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeIdleConnections();
          }),
      ),
    );
  try {
    app.tagListener(app.server, 'api');
    await app.listen({ host: plan.api.host, port: plan.api.port }).catch((e: unknown) => {
      throw new ListenError('api', plan.api, e);
    });
    addresses.api = { host: plan.api.host, port: (app.server.address() as AddressInfo).port };
    for (const listener of ['ops', 'admin'] as const) {
      const address = plan[listener];
      if (address === undefined) continue;
      const server = createServer(httpTimeouts(requestTimeoutMs), app.routing);
      app.tagListener(server, listener);
      extra.push(server);
      const bound = await bind(server, address).catch((e: unknown) => {
        throw new ListenError(listener, address, e);
      });
      addresses[listener] = bound;
      // fastify logs the API listener itself; these sockets are ours, and a port 0 is only known here.
      app.log.info({ listener }, `${listener} listener at http://${bound.host.includes(':') ? `[${bound.host}]` : bound.host}:${bound.port}`);
    }
  } catch (e: unknown) {
    await closeExtra();
    await app.close();
    throw e;
  }
  return {
    addresses,
    close: async (drainMs) => {
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<false>((resolve) => {
        timer = setTimeout(() => {
          for (const s of [app.server, ...extra]) s.closeAllConnections();
          resolve(false);
        }, drainMs);
      });
      const drained = Promise.all([closeExtra(), app.close()]).then(() => true);
      const clean = await Promise.race([drained, cut]);
      clearTimeout(timer);
      // Cut connections end their requests, so the app's own close can finish after the cut.
      await drained;
      return clean;
    },
  };
}
