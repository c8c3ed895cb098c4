/**
 * A small fake of the API server's list/watch protocol over real HTTP, for the error paths a real
 * server will not produce on demand: a failing list, a watch answered with 410 or 500, a 410 ERROR
 * event inside a watch, a watch whose connection is cut. Everything else it answers 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

interface Collection {
  items: Map<string, KubernetesObject>;
  /** Status codes the next lists answer with, in order, before answering normally. */
  listFailures: number[];
  /** Status codes the next watches answer with, in order. */
  watchFailures: number[];
  watchers: Set<ServerResponse>;
  lists: number;
  watches: number;
}

export type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => boolean;

export class FakeApiServer {
  readonly #server: Server;
  readonly #collections = new Map<string, Collection>();
  readonly #handlers: Handler[] = [];
  #rv = 100;

  constructor() {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => this.#handle(req, body, res));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return this;
  }

  async stop(): Promise<void> {
    for (const c of this.#collections.values()) for (const w of c.watchers) w.destroy();
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Extra routes (bindings, pods…); return true when handled. */
  on(handler: Handler): void {
    this.#handlers.push(handler);
  }

  collection(path: string): Collection {
    let c = this.#collections.get(path);
    if (c === undefined) {
      c = { items: new Map(), listFailures: [], watchFailures: [], watchers: new Set(), lists: 0, watches: 0 };
      this.#collections.set(path, c);
    }
    return c;
  }

  #key(o: KubernetesObject): string {
    return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  }

  /** Stores the object (new resourceVersion) and tells the watchers, unless `silently`. */
  put(path: string, obj: KubernetesObject, silently = false): void {
    const c = this.collection(path);
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } };
    const type = c.items.has(this.#key(obj)) ? 'MODIFIED' : 'ADDED';
    c.items.set(this.#key(obj), stored);
    if (!silently) this.#send(c, { type, object: stored });
  }

  remove(path: string, name: string, namespace = '', silently = false): void {
    const c = this.collection(path);
    const obj = c.items.get(`${namespace}/${name}`);
    if (obj === undefined) return;
    c.items.delete(`${namespace}/${name}`);
    if (!silently) this.#send(c, { type: 'DELETED', object: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } } });
  }

  /** Sends a 410 ERROR event on every open watch, then ends them, as the API server does. */
  expireWatches(path: string): void {
    const c = this.collection(path);
    this.#send(c, {
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 },
    });
    for (const w of c.watchers) w.end();
    c.watchers.clear();
  }

  /** Ends every open watch cleanly, as the API server does when a watch's timeout is up. */
  endWatches(path: string): void {
    const c = this.collection(path);
    for (const w of c.watchers) w.end();
    c.watchers.clear();
  }

  /** Cuts every open watch connection without a word. */
  dropWatches(path: string): void {
    const c = this.collection(path);
    for (const w of c.watchers) w.destroy();
    c.watchers.clear();
  }

  #send(c: Collection, event: unknown): void {
    for (const w of c.watchers) w.write(`${JSON.stringify(event)}\n`);
  }

  #handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    for (const h of this.#handlers) if (h(req, body, res)) return;
    const url = new URL(req.url ?? '/', this.url);
    const c = this.#collections.get(url.pathname);
    if (req.method !== 'GET' || c === undefined) return status(res, 404, `${url.pathname} not found`);
    if (url.searchParams.get('watch') === 'true') {
      c.watches++;
      const failure = c.watchFailures.shift();
      if (failure !== undefined) return status(res, failure, `watch failed with ${failure}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      c.watchers.add(res);
      res.on('close', () => c.watchers.delete(res));
      return;
    }
    c.lists++;
    const failure = c.listFailures.shift();
    if (failure !== undefined) return status(res, failure, `list failed with ${failure}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.#rv) }, items: [...c.items.values()] }));
  }
}

export function status(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code }));
}
