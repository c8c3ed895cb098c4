import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import t from 'tap';
import { PooledKubeConfig } from '../../src/cluster/kube-api.ts';

const SERVER = 'https://127.0.0.1:6443';

function configured<K extends KubeConfig>(kc: K, token: string): K {
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: SERVER, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

async function authenticated(kc: KubeConfig): Promise<RequestContext> {
  const ctx = new RequestContext(`${SERVER}/api/v1/pods`, HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx;
}

t.test('requests share one connection pool, and each still gets the current credentials', async (t) => {
  const kc = configured(new PooledKubeConfig(), 'first');
  const a = await authenticated(kc);
  t.ok(a.getDispatcher(), 'a dispatcher for the TLS connection');
  t.equal(a.getHeaders()['Authorization'], 'Bearer first');
  // A rotated token (in-cluster service-account tokens are) reaches the next request.
  const user = kc.getCurrentUser();
  if (user !== null) (user as { token?: string }).token = 'rotated';
  const b = await authenticated(kc);
  t.equal(b.getDispatcher(), a.getDispatcher(), 'the same pool: no new TLS connection per request');
  t.equal(b.getHeaders()['Authorization'], 'Bearer rotated');
});

t.test('why: a plain KubeConfig builds a new pool for every request', async (t) => {
  const kc = configured(new KubeConfig(), 'x');
  const [a, b] = [await authenticated(kc), await authenticated(kc)];
  t.not(a.getDispatcher(), b.getDispatcher());
});
