/**
 * Who reaches what, over real sockets: kube-scheduler (client certificate) on the API listener,
 * probes and Prometheus (no certificate) on the ops listener, humans on the loopback admin listener.
 */
import { pino } from 'pino';
import t from 'tap';
import { Agent, request } from 'undici';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import { buildApp } from '../../src/server/app.ts';
import { listenAll } from '../../src/server/listeners.ts';
import { agentPool, namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { tempDir } from '../helpers/test-app.ts';
import { makeTestPki } from '../helpers/test-pki.ts';

const objects = { nodes: [node('n1')], pods: [pod('p-0', { uid: 'uid-p-0' })], agentPools: [agentPool('pool')], agentClasses: [], models: [] };
const decideAt = { pool: { namespace: 'agents', name: 'pool' }, currentReplicas: 1, metrics: {}, now: '2099-01-01T00:00:00Z', dryRun: true };

t.test('the API listener wants a client certificate; probes and /metrics on ops do not; /debug and "now" only on admin', async (t) => {
  const pki = await makeTestPki(await tempDir(t));
  const log = pino({ level: 'silent' });
  const app = await buildApp({
    cluster: new SnapshotSource({ log, objects }),
    registry: new PluginRegistry(),
    builtins: false,
    logger: log,
    https: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
  });
  const local = { host: '127.0.0.1', port: 0 };
  const listening = await listenAll(app, { api: local, ops: local, admin: local }, 5_000);
  t.teardown(() => listening.close(1_000));
  const { api, ops, admin } = listening.addresses as Required<typeof listening.addresses>;
  const scheduler = new Agent({ connect: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
  const anonymous = new Agent({ connect: { ca: pki.ca } });
  t.teardown(() => Promise.all([scheduler.close(), anonymous.close()]));

  const get = async (base: string, path: string, dispatcher?: Agent): Promise<{ status: number; body: string }> => {
    const res = await request(`${base}${path}`, { ...(dispatcher !== undefined ? { dispatcher } : {}), signal: AbortSignal.timeout(10_000) });
    return { status: res.statusCode, body: await res.body.text() };
  };
  const post = async (base: string, path: string, body: unknown, dispatcher?: Agent): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await request(`${base}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      ...(dispatcher !== undefined ? { dispatcher } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  };
  const apiUrl = `https://localhost:${api.port}`;
  const opsUrl = `http://127.0.0.1:${ops.port}`;
  const adminUrl = `http://127.0.0.1:${admin.port}`;

  // kube-scheduler: its verbs, with its certificate.
  t.equal((await post(apiUrl, '/scheduler/filter', namesArgs(pod('p-0'), ['n1']), scheduler)).status, 200);
  await t.rejects(get(apiUrl, '/healthz', anonymous), 'no client certificate, no API listener');
  const debugOnApi = await get(apiUrl, '/debug/plugins', scheduler);
  t.equal(debugOnApi.status, 404);
  t.match(JSON.parse(debugOnApi.body), {
    code: 'NN_NOT_ON_THIS_LISTENER',
    message: /\/debug\/plugins is not served on the api listener; it is on the admin listener/,
  });
  t.equal((await get(apiUrl, '/metrics', scheduler)).status, 404, '/metrics is not on the API listener');
  const now = await post(apiUrl, '/autoscaler/decide', decideAt, scheduler);
  t.equal(now.status, 403);
  t.match(now.json, { code: 'NN_ADMIN_ONLY', message: /"now" is accepted only on the admin listener/ });
  const { now: _now, ...withoutNow } = decideAt;
  t.equal((await post(apiUrl, '/autoscaler/decide', withoutNow, scheduler)).status, 200, 'decide without "now" is for anyone on the API listener');

  // Probes and Prometheus: plain HTTP, no certificate, and nothing else.
  t.match(await get(opsUrl, '/healthz'), { status: 200 });
  t.match(await get(opsUrl, '/readyz'), { status: 200 });
  t.match(await get(opsUrl, '/metrics'), { status: 200, body: /neuronetes_/ });
  t.equal((await get(opsUrl, '/debug/plugins')).status, 404);
  t.equal(
    (await post(opsUrl, '/scheduler/bind', { PodName: 'p-0', PodNamespace: 'agents', PodUID: 'uid-p-0', Node: 'n1' })).status,
    404,
    'no verbs on the ops listener',
  );

  // Humans on the admin listener: everything.
  t.match(await get(adminUrl, '/debug/plugins'), { status: 200, body: /"scheduler"/ });
  t.match(await get(adminUrl, '/metrics'), { status: 200 });
  const replay = await post(adminUrl, '/autoscaler/decide', decideAt);
  t.equal(replay.status, 200);
  t.equal(replay.json['time'], '2099-01-01T00:00:00.000Z');

  t.equal((await app.inject('/debug/plugins')).statusCode, 200, 'app.inject() is in-process and unrestricted');
});

t.test('GET /autoscaler/pools/…?now= is refused on the API listener too', async (t) => {
  const log = pino({ level: 'silent' });
  const app = await buildApp({ cluster: new SnapshotSource({ log, objects }), registry: new PluginRegistry(), builtins: false, logger: log });
  const listening = await listenAll(app, { api: { host: '127.0.0.1', port: 0 } }, 5_000);
  t.teardown(() => listening.close(1_000));
  const res = await request(`http://127.0.0.1:${listening.addresses.api?.port}/autoscaler/pools/agents/pool?now=2099-01-01T00:00:00Z`, {
    signal: AbortSignal.timeout(10_000),
  });
  t.equal(res.statusCode, 403);
  t.match(await res.body.json(), { code: 'NN_ADMIN_ONLY' });
});
