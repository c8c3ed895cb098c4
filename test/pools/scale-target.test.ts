/**
 * What the scale-target client refuses before it asks the API server anything: an apiVersion that
 * is not <group>/<version> becomes no request (it would be a URL path). The API server paths are
 * tested in test/e2e/pools.test.ts.
 */
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { KubernetesScaleTargets, ScaleTargetError } from '../../src/pools/scale-target.ts';

t.test('an apiVersion that is not <group>/<version> is KindNotFound, with no request made', async (t) => {
  const kc = new KubeConfig();
  // Port 1 on loopback: any request would fail with a connection error, not a ScaleTargetError.
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const targets = new KubernetesScaleTargets(kc);
  for (const apiVersion of ['v1', 'apps/v1/../../api/v1', 'apps/v1?watch=1', 'Apps/v1', '/v1']) {
    const e = await targets.getScale('agents', { apiVersion, kind: 'Deployment', name: 'chat' }).catch((err: unknown) => err);
    t.ok(e instanceof ScaleTargetError, apiVersion);
    t.match(e, { reason: 'KindNotFound', message: /is not <group>\/<version>/ }, apiVersion);
  }
});
