import { pino } from 'pino';
import t from 'tap';
import { listAll } from '../../src/cluster/kube-api.ts';
import { SupervisedInformer } from '../../src/cluster/supervised-informer.ts';
import { eventually } from '../e2e/control-plane.ts';
import type { Teardown } from '../helpers/test-app.ts';
import { FakeApiServer } from './fake-apiserver.ts';

const PATH = '/api/v1/nodes';
const log = pino({ level: process.env['TEST_LOG'] ?? 'silent' });
const node = (name: string): { apiVersion: string; kind: string; metadata: { name: string } } => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });

async function setup(t: Teardown, options: { silentAfterMs?: number; now?: () => number; backoffMs?: number } = {}) {
  const api = await new FakeApiServer().start();
  api.collection(PATH);
  const kc = api.kubeConfig();
  let changes = 0;
  const informer = new SupervisedInformer({
    name: 'nodes',
    kubeConfig: kc,
    path: PATH,
    list: () => listAll(kc, PATH),
    onChange: () => changes++,
    log,
    backoff: { initialMs: options.backoffMs ?? 20, maxMs: options.backoffMs ?? 100 },
    silentAfterMs: options.silentAfterMs ?? 60_000,
    now: options.now ?? Date.now,
  });
  t.teardown(async () => {
    await informer.stop();
    await api.stop();
  });
  return { api, informer, changes: () => changes };
}

const names = (i: SupervisedInformer<{ metadata?: { name?: string } }>): string[] =>
  i
    .list()
    .map((n) => n.metadata?.name ?? '')
    .sort();

t.test('a failing first list is retried with backoff; the error is reported until it recovers', async (t) => {
  const { api, informer } = await setup(t, { backoffMs: 400 });
  api.put(PATH, node('a'));
  api.collection(PATH).listFailures.push(500, 503);
  const started = informer.start();
  await eventually('the error to be reported', () => informer.health().lastError, 5_000, 10);
  t.match(informer.health(), { synced: false, lastError: /503|500/ });
  await started;
  t.same(names(informer), ['a']);
  t.match(informer.health(), { synced: true, lastError: undefined });
  t.ok(informer.health().restarts >= 2, 'restarted once per failure');
});

t.test('events after the list reach the cache and the change listener', async (t) => {
  const { api, informer, changes } = await setup(t);
  await informer.start();
  // The fake does not replay history from a resourceVersion: wait for the watch before changing things.
  await eventually('the watch', () => (api.collection(PATH).watchers.size > 0 ? true : undefined));
  const before = changes();
  api.put(PATH, node('b'));
  await eventually('b', () => (names(informer).includes('b') ? true : undefined));
  api.remove(PATH, 'b');
  await eventually('b gone', () => (names(informer).includes('b') ? undefined : true));
  t.ok(changes() >= before + 2);
  t.equal(informer.get('b'), undefined);
});

t.test('410 Gone as a watch ERROR event: the ListWatch re-lists by itself', async (t) => {
  const { api, informer } = await setup(t);
  api.put(PATH, node('a'));
  await informer.start();
  await eventually('the watch', () => (api.collection(PATH).watchers.size > 0 ? true : undefined));
  const { relists, restarts } = informer.health();
  api.put(PATH, node('missed'), true);
  api.expireWatches(PATH);
  await eventually('the re-list', () => (informer.health().relists > relists ? true : undefined));
  await eventually('the missed node', () => (names(informer).includes('missed') ? true : undefined));
  t.equal(informer.health().restarts, restarts, 'no supervisor restart needed');
});

t.test('410 as the watch status code: also a re-list', async (t) => {
  const { api, informer } = await setup(t);
  await informer.start();
  await eventually('the watch', () => (api.collection(PATH).watchers.size > 0 ? true : undefined));
  const lists = api.collection(PATH).lists;
  api.collection(PATH).watchFailures.push(410);
  api.endWatches(PATH);
  await eventually('a new list', () => (api.collection(PATH).lists > lists ? true : undefined));
  t.equal(informer.health().lastError, undefined);
});

t.test('a dropped watch reconnects and misses nothing it is told afterwards', async (t) => {
  const { api, informer } = await setup(t);
  await informer.start();
  await eventually('the watch', () => (api.collection(PATH).watchers.size > 0 ? true : undefined));
  const watches = api.collection(PATH).watches;
  api.dropWatches(PATH);
  await eventually('a new watch', () => (api.collection(PATH).watches > watches && api.collection(PATH).watchers.size > 0 ? true : undefined), 10_000);
  api.put(PATH, node('after-drop'));
  await eventually('the node', () => (names(informer).includes('after-drop') ? true : undefined));
  t.pass();
});

t.test('a watch failing with 500 stops the ListWatch; the supervisor restarts it with a fresh list', async (t) => {
  const { api, informer } = await setup(t);
  api.put(PATH, node('a'));
  api.put(PATH, node('doomed'));
  await informer.start();
  await eventually('the watch', () => (api.collection(PATH).watchers.size > 0 ? true : undefined));
  // Deleted while the watch is failing: only a full re-list can notice.
  api.remove(PATH, 'doomed', '', true);
  api.collection(PATH).watchFailures.push(500);
  api.dropWatches(PATH);
  await eventually('the restart', () => (informer.health().restarts > 0 ? true : undefined), 10_000);
  await eventually('doomed to be gone', () => (names(informer).includes('doomed') ? undefined : true));
  t.same(names(informer), ['a']);
});

t.test('the watchdog restarts an informer that has gone silent', async (t) => {
  let now = 1_000_000;
  const { api, informer } = await setup(t, { silentAfterMs: 200, now: () => now });
  await informer.start();
  await eventually('the watch', () => (api.collection(PATH).watchers.size > 0 ? true : undefined));
  const lists = api.collection(PATH).lists;
  now += 1_000;
  await eventually('a restart', () => (informer.health().restarts > 0 ? true : undefined), 5_000);
  await eventually('a fresh list', () => (api.collection(PATH).lists > lists ? true : undefined));
  t.equal(informer.health().lastError, undefined, 'recovered once the list landed');
});
