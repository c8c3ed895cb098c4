/**
 * The thin layer under the Kubernetes cluster source: which kubeconfig to use, plain-JSON list/get
 * requests, and API errors turned into the text a person (or kube-scheduler's event) should read.
 *
 * Lists are fetched raw rather than through the generated clients because those turn timestamps
 * into Dates while watch events stay plain JSON; the cluster view must hold one shape of object.
 */
import { ApiException, HttpMethod, KubeConfig, RequestContext, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { fetch } from 'undici';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * A KubeConfig whose requests share one connection pool. client-node (2.0) builds a new undici Agent
 * for every request, so every API call opened a new TLS connection — a handshake and a SecureContext
 * each, the largest cost of binding a pod. Headers (a rotated service-account token) are still
 * applied per request; the TLS material (cluster CA, client certificate) is the first request's.
 */
export class PooledKubeConfig extends KubeConfig {
  #dispatcher: Dispatcher | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined || fresh === this.#dispatcher) return;
    if (this.#dispatcher === undefined) {
      this.#dispatcher = fresh;
      return;
    }
    context.setDispatcher(this.#dispatcher);
    // Never connected: closing it costs nothing.
    void fresh.destroy();
  }
}

/** In-cluster config inside a pod (unless a kubeconfig is named), else the named or default kubeconfig. */
export function loadKubeConfig(kubeconfig?: string): KubeConfig {
  const kc = new PooledKubeConfig();
  if (kubeconfig !== undefined) kc.loadFromFile(kubeconfig);
  else if (process.env['KUBERNETES_SERVICE_HOST'] !== undefined) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (kc.getCurrentCluster() === null) throw new Error('the kubeconfig names no current cluster');
  return kc;
}

/** An API request that failed, with the status code and the API server's own message. */
export class KubeApiError extends Error {
  readonly code: number;
  constructor(code: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeApiError';
    this.code = code;
  }
}

/** The `message` of a metav1.Status body (JSON text or object), if it has one. */
function statusMessage(body: unknown): string | undefined {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() === '' ? undefined : body.trim();
    }
  }
  if (typeof value === 'object' && value !== null) {
    const message = (value as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return undefined;
}

/** "409 Conflict: <the API server's message>" for API errors; the message for anything else. */
export function apiErrorText(e: unknown): string {
  if (e instanceof ApiException) {
    const message = statusMessage(e.body) ?? e.message;
    return `${e.code}: ${message}`;
  }
  if (e instanceof KubeApiError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export function apiErrorCode(e: unknown): number | undefined {
  if (e instanceof ApiException || e instanceof KubeApiError) return e.code;
  return undefined;
}

const REQUEST_TIMEOUT_MS = 60_000;

/** GET a path as plain JSON. Throws KubeApiError (with `code`) on a non-2xx answer. */
export async function getJson<T>(kc: KubeConfig, path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig names no current cluster');
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const dispatcher = ctx.getDispatcher();
  const response = await fetch(url, {
    headers: { ...ctx.getHeaders(), accept: 'application/json' },
    ...(dispatcher !== undefined ? { dispatcher } : {}),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  if (response.status < 200 || response.status > 299) {
    throw new KubeApiError(response.status, `${response.status}: GET ${path}: ${statusMessage(text) ?? response.statusText}`);
  }
  return JSON.parse(text) as T;
}

/** Chunk size for lists, as client-go's pager: large clusters are listed in pages, one snapshot. */
const PAGE_SIZE = 500;

/** Lists every object at `path` (all pages) as one list carrying the snapshot's resourceVersion. */
export async function listAll<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  selectors: { labelSelector?: string; fieldSelector?: string } = {},
): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let resourceVersion = '';
  let cont: string | undefined;
  do {
    const page = await getJson<KubernetesListObject<T>>(kc, path, { ...selectors, limit: String(PAGE_SIZE), continue: cont });
    items.push(...(page.items ?? []));
    if (resourceVersion === '') resourceVersion = page.metadata?.resourceVersion ?? '';
    cont = page.metadata?._continue ?? (page.metadata as { continue?: string } | undefined)?.continue;
  } while (cont !== undefined && cont !== '');
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items };
}
