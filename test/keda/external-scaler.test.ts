import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import t from 'tap';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import type { GetMetricSpecResponse, GetMetricsResponse, IsActiveResponse } from '../../src/keda/external-scaler-proto.ts';
import { registerAutoscaler } from '../../src/plugins/registry.ts';
import { pool, STATIC_ONLY } from '../autoscaling/helpers.ts';
import { makeTestPki } from '../helpers/test-pki.ts';
import { tempDir } from '../helpers/test-app.ts';
import { call, ref, scalerTest, streamIsActive, until } from './helpers.ts';

registerAutoscaler({
  name: () => 'keda-test-boom',
  getMetricNames: () => [],
  calculateReplicas: () => {
    throw new Error('boom');
  },
});

function agentPool(name: string, minReplicas: number, queueDepth: string, replicas: number): AgentPool {
  return pool(
    name,
    { minReplicas, maxReplicas: 10, autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } },
    { metadata: { name, namespace: 'test', annotations: { 'metrics.neuronetes.io/queue-depth': queueDepth } }, status: { replicas } },
  );
}

// chat: 45 queued / 10 per replica → 5 (from 2, inside HPA's +100 %/+4 scale-up limit).
const CHAT = agentPool('chat', 1, '45', 2);
// batch: may scale to zero and has nothing queued → 0, idle. No scale-down window, so it goes idle
// as soon as the queue is empty again.
function batchWith(queueDepth: string): AgentPool {
  const p = agentPool('batch', 0, queueDepth, 0);
  return { ...p, spec: { ...p.spec, autoscaling: { ...p.spec.autoscaling, behavior: { scaleDown: { stabilizationWindow: '0s' } } } } };
}
const BATCH = batchWith('0');

t.test('GetMetricSpec names one metric per pool with target 1; the pool comes from metadata or the ScaledObject', async (t) => {
  const { client } = await scalerTest(t, { pools: [CHAT, BATCH] });
  const expected = { metricSpecs: [{ metricName: 'desired-replicas-test-chat', targetSize: 1, targetSizeFloat: 1 }] };
  t.same(await call<unknown, GetMetricSpecResponse>(client, 'GetMetricSpec', ref('chat', 'test')), expected, 'defaults to the ScaledObject namespace/name');
  t.same(
    await call<unknown, GetMetricSpecResponse>(client, 'GetMetricSpec', ref('chat-scaler', 'keda', { pool: 'test/chat' })),
    expected,
    'pool: <namespace>/<name>',
  );
  t.same(
    await call<unknown, GetMetricSpecResponse>(client, 'GetMetricSpec', ref('chat-scaler', 'test', { name: 'chat' })),
    expected,
    'name alone keeps the ScaledObject namespace',
  );
  t.same(await call<unknown, GetMetricSpecResponse>(client, 'GetMetricSpec', ref('x', 'keda', { namespace: 'test', name: 'chat' })), expected);
});

t.test('GetMetrics returns the recorded decision desiredReplicas, as GET /autoscaler/pools does', async (t) => {
  const { app, client } = await scalerTest(t, { pools: [CHAT, BATCH] });
  const preview = await app.inject({ url: '/autoscaler/pools/test/chat?dryRun=true' });
  t.equal(preview.json<{ desiredReplicas: number }>().desiredReplicas, 5);

  const res = await call<unknown, GetMetricsResponse>(client, 'GetMetrics', { scaledObjectRef: ref('chat', 'test'), metricName: 'desired-replicas-test-chat' });
  t.same(res, { metricValues: [{ metricName: 'desired-replicas-test-chat', metricValue: 5, metricValueFloat: 5 }] });
  const empty = await call<unknown, GetMetricsResponse>(client, 'GetMetrics', { scaledObjectRef: ref('chat', 'test') });
  t.equal(empty.metricValues[0]?.metricName, 'desired-replicas-test-chat', 'no metricName asks for the pool metric');

  const trace = (await app.inject({ url: '/debug/plugins/autoscaler/trace?pool=test/chat' })).json<{
    count: number;
    decisions: { desiredReplicas: number; dryRun: boolean }[];
  }>();
  t.equal(trace.count, 2, 'each GetMetrics is one recorded decision; the dry run is not');
  t.same(
    trace.decisions.map((d) => [d.desiredReplicas, d.dryRun]),
    [
      [5, false],
      [5, false],
    ],
  );
  const metrics = (await app.inject({ url: '/metrics' })).body;
  t.match(metrics, /neuronetes_autoscaler_desired_replicas\{pool="test\/chat"\} 5/);
  t.match(metrics, /neuronetes_keda_requests_total\{method="GetMetrics",code="OK"\} 2/);
});

t.test('IsActive is desiredReplicas > 0: a pool at minReplicas 0 with nothing to do is idle', async (t) => {
  const { client } = await scalerTest(t, { pools: [CHAT, BATCH] });
  t.same(await call<unknown, IsActiveResponse>(client, 'IsActive', ref('chat', 'test')), { result: true });
  t.same(await call<unknown, IsActiveResponse>(client, 'IsActive', ref('batch', 'test')), { result: false });
  const scaledToZeroButMin1 = agentPool('chat', 1, '0', 0);
  const second = await scalerTest(t, { pools: [scaledToZeroButMin1] });
  t.same(
    await call<unknown, IsActiveResponse>(second.client, 'IsActive', ref('chat', 'test')),
    { result: true },
    'minReplicas 1 wakes a pool KEDA scaled to zero',
  );
});

t.test('waking from zero: GetMetrics asks for the first scale-up step, IsActive is true', async (t) => {
  // ceil(95 / 10) = 10 wanted; HPA's default scale-up limit from 0 allows max(0 + 4, 0 × 2) = 4.
  const asleep = batchWith('95');
  const { client } = await scalerTest(t, { pools: [asleep] });
  const metrics = await call<unknown, GetMetricsResponse>(client, 'GetMetrics', {
    scaledObjectRef: ref('batch', 'test'),
    metricName: 'desired-replicas-test-batch',
  });
  t.same(metrics.metricValues, [{ metricName: 'desired-replicas-test-batch', metricValue: 4, metricValueFloat: 4 }]);
  t.same(await call<unknown, IsActiveResponse>(client, 'IsActive', ref('batch', 'test')), { result: true });
});

t.test('a pool whose spec the autoscaler cannot use is FAILED_PRECONDITION, naming the field', async (t) => {
  const frozen = agentPool('frozen', 1, '5', 1);
  const bad = { ...frozen, spec: { ...frozen.spec, autoscaling: { ...frozen.spec.autoscaling, cooldownPeriod: '999999999999h' } } };
  const { client } = await scalerTest(t, { pools: [bad] });
  const precondition = {
    code: status.FAILED_PRECONDITION,
    details: 'AgentPool test/frozen: spec.autoscaling.cooldownPeriod: "999999999999h" is longer than the 24h allowed',
  };
  await t.rejects(call(client, 'GetMetrics', { scaledObjectRef: ref('frozen', 'test'), metricName: '' }), precondition);
  await t.rejects(call(client, 'IsActive', ref('frozen', 'test')), precondition);
});

t.test('an unknown pool is NOT_FOUND on every RPC', async (t) => {
  const { client, app } = await scalerTest(t, { pools: [CHAT] });
  const notFound = { code: status.NOT_FOUND, details: 'no AgentPool test/nope in the cluster source' };
  await t.rejects(call(client, 'IsActive', ref('nope', 'test')), notFound);
  await t.rejects(call(client, 'GetMetricSpec', ref('x', 'y', { pool: 'test/nope' })), notFound);
  await t.rejects(call(client, 'GetMetrics', { scaledObjectRef: ref('nope', 'test'), metricName: 'desired-replicas-test-nope' }), notFound);
  const stream = streamIsActive(client, ref('nope', 'test'));
  const err = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
  t.match(err, notFound);
  t.match((await app.inject({ url: '/metrics' })).body, /neuronetes_keda_requests_total\{method="StreamIsActive",code="NOT_FOUND"\} 1/);
});

t.test('bad metadata is INVALID_ARGUMENT with the reason', async (t) => {
  const { client } = await scalerTest(t, { pools: [CHAT] });
  const invalid = (details: RegExp): { code: status; details: RegExp } => ({ code: status.INVALID_ARGUMENT, details });
  await t.rejects(call(client, 'IsActive', ref('x', 'test', { pool: 'chat' })), invalid(/pool must be "<namespace>\/<name>", not "chat"/));
  await t.rejects(call(client, 'IsActive', ref('x', 'test', { pool: 'test/chat/extra' })), invalid(/pool must be/));
  await t.rejects(call(client, 'IsActive', ref('x', 'test', { pool: 'test/chat', name: 'chat' })), invalid(/names the pool twice/));
  await t.rejects(call(client, 'GetMetricSpec', ref('x', 'test', { name: 'Chat Bot' })), invalid(/"Chat Bot" is not a Kubernetes object name/));
  await t.rejects(call(client, 'GetMetricSpec', ref('x', 'test', { pool: '/chat' })), invalid(/namespace "" is not a Kubernetes namespace/));
  await t.rejects(call(client, 'GetMetrics', { metricName: 'desired-replicas-test-chat' }), invalid(/no scaledObjectRef/));
  await t.rejects(
    call(client, 'GetMetrics', { scaledObjectRef: ref('chat', 'test'), metricName: 'queue-depth' }),
    invalid(/unknown metric "queue-depth": this scaler serves desired-replicas-test-chat/),
  );
  const stream = streamIsActive(client, ref('x', 'test', { pool: 'nope' }));
  t.match(await new Promise<ServiceError>((resolve) => stream.on('error', resolve)), invalid(/pool must be/));
});

t.test('a failing Fail-policy plugin is UNAVAILABLE; anything else is INTERNAL', async (t) => {
  const failing = await scalerTest(t, {
    pools: [CHAT],
    config: { ...STATIC_ONLY, 'autoscaler-plugins': [...STATIC_ONLY['autoscaler-plugins'], { name: 'keda-test-boom', failurePolicy: 'Fail' }] },
  });
  await t.rejects(call(failing.client, 'GetMetrics', { scaledObjectRef: ref('chat', 'test'), metricName: '' }), {
    code: status.UNAVAILABLE,
    details: /keda-test-boom" failed: boom/,
  });

  const store = { load: () => Promise.reject(new Error('state store on fire')), save: () => Promise.resolve() };
  const broken = await scalerTest(t, { pools: [CHAT], store });
  await t.rejects(call(broken.client, 'IsActive', ref('chat', 'test')), { code: status.INTERNAL, details: 'decision failed: state store on fire' });
});

t.test('StreamIsActive pushes on open and on every interval, and stops when the client cancels', async (t) => {
  const { app, client } = await scalerTest(t, { pools: [CHAT], streamIntervalMs: 20 });
  const stream = streamIsActive(client, ref('chat', 'test'));
  const received: boolean[] = [];
  stream.on('data', (m: IsActiveResponse) => received.push(m.result));
  const ended = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
  await until(() => received.length >= 3, 'three pushes arrived');
  t.ok(
    received.every((r) => r),
    'the pool stays active',
  );
  t.equal(app.kedaScaler.openStreams, 1);

  stream.cancel();
  t.equal((await ended).code, status.CANCELLED);
  await until(() => app.kedaScaler.openStreams === 0, 'the server let go of the stream');
  const decisions = (): number => app.neuronetes.traces.autoscaler.list({ subject: 'test/chat' }).length;
  const sleep = (): Promise<void> => new Promise((r) => setTimeout(r, 100));
  await sleep(); // a decision already running at the cancel may still land
  const after = decisions();
  await sleep(); // five intervals: had the ticks survived the stream, decisions would be made
  t.equal(decisions(), after, 'no decisions after the cancel');
  t.match((await app.inject({ url: '/metrics' })).body, /neuronetes_keda_streams 0/);
});

t.test('StreamIsActive pushes when the answer changes with the pool, without waiting for the interval', async (t) => {
  const { client, setPools } = await scalerTest(t, { pools: [BATCH], streamIntervalMs: 3_600_000 });
  const stream = streamIsActive(client, ref('batch', 'test'));
  t.teardown(() => stream.cancel());
  const received: boolean[] = [];
  stream.on('data', (m: IsActiveResponse) => received.push(m.result));
  stream.on('error', () => undefined);
  await until(() => received.length === 1, 'the opening push');

  await setPools([batchWith('25')]);
  await until(() => received.length === 2, 'a push on change');
  // Still active after this change: nothing is pushed. Then idle again: pushed.
  await setPools([batchWith('26'), agentPool('other', 1, '0', 1)]);
  await setPools([batchWith('0')]);
  await until(() => received.at(-1) === false && received.length >= 3, 'the next change of answer');
  t.same(received, [false, true, false], 'idle, work arrived, idle; the change that kept it active pushed nothing');
});

t.test('a pool deleted under an open stream ends it with NOT_FOUND', async (t) => {
  const { app, client, setPools } = await scalerTest(t, { pools: [CHAT], streamIntervalMs: 3_600_000 });
  const stream = streamIsActive(client, ref('chat', 'test'));
  const first = new Promise((resolve) => stream.once('data', resolve));
  const ended = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
  await first;
  await setPools([]);
  t.match(await ended, { code: status.NOT_FOUND, details: 'no AgentPool test/chat in the cluster source' });
  t.equal(app.kedaScaler.openStreams, 0);
});

t.test('closing the app ends open streams with UNAVAILABLE', async (t) => {
  const { app, client } = await scalerTest(t, { pools: [CHAT], streamIntervalMs: 3_600_000 });
  const stream = streamIsActive(client, ref('chat', 'test'));
  const first = new Promise((resolve) => stream.once('data', resolve));
  const ended = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
  await first;
  await app.close();
  t.match(await ended, { code: status.UNAVAILABLE, details: 'NeuroNetes is shutting down' });
});

t.test('StreamMetricSpec is UNIMPLEMENTED, which KEDA takes as "poll GetMetricSpec"', async (t) => {
  const { client } = await scalerTest(t, { pools: [CHAT] });
  const rpc = client['StreamMetricSpec'] as (r: unknown) => NodeJS.EventEmitter;
  const err = await new Promise<ServiceError>((resolve) => rpc.call(client, ref('chat', 'test')).on('error', resolve));
  t.equal(err.code, status.UNIMPLEMENTED);
});

t.test('with the serve TLS material the scaler requires TLS, and client certificates when a client CA is set', async (t) => {
  const pki = await makeTestPki(await tempDir(t, 'nn-keda-pki-'));
  const tls = { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca };
  const mtls = await scalerTest(t, { pools: [CHAT], tls, clientCredentials: credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert) });
  t.same(await call<unknown, IsActiveResponse>(mtls.client, 'IsActive', ref('chat', 'test')), { result: true });

  const anonymous = await scalerTest(t, { pools: [CHAT], tls, clientCredentials: credentials.createSsl(pki.ca) });
  await t.rejects(call(anonymous.client, 'IsActive', ref('chat', 'test')), { code: status.UNAVAILABLE });
  const plaintext = await scalerTest(t, { pools: [CHAT], tls });
  await t.rejects(call(plaintext.client, 'IsActive', ref('chat', 'test')), { code: status.UNAVAILABLE });
});
