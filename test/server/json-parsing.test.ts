import t from 'tap';
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import { node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const cluster = { nodes: [node('n1')], pods: [], agentPools: [], agentClasses: [], models: [] };
const json = { 'content-type': 'application/json' };

/** Keeps every node and scores all alike, remembering what it was handed. */
function recorder(): { plugin: SchedulerPlugin; pods: Pod[]; nodes: Node[] } {
  const seen = { pods: [] as Pod[], nodes: [] as Node[] };
  const plugin: SchedulerPlugin = {
    name: () => 'recorder',
    filter: (_ctx, p, n) => {
      seen.pods.push(p);
      seen.nodes.push(n);
      return true;
    },
    score: () => 50,
  };
  return { plugin, ...seen };
}

const polluted = (): boolean => 'polluted' in Object.prototype || ({} as Record<string, unknown>)['polluted'] !== undefined;

/*
 * The scheduler routes parse with plain JSON.parse (no scan for "__proto__"/"constructor" keys):
 * such keys must stay own data properties of the request objects, change no prototype, and come
 * back to the scheduler as they were sent.
 */
t.test('"__proto__" and "constructor" keys in an ExtenderArgs body pollute nothing', async (t) => {
  const seen = recorder();
  const { app } = await buildTestApp(t, { plugins: { scheduler: [seen.plugin] }, cluster });
  const poisonedNode =
    '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n9","labels":{"__proto__":"label","zone":"a"},"__proto__":{"polluted":"meta"}},' +
    '"constructor":{"prototype":{"polluted":"ctor"}},"status":{"allocatable":{"cpu":"8"}}}';
  const body = `{"__proto__":{"polluted":"top"},"Pod":${JSON.stringify(pod('p'))},"Nodes":{"kind":"NodeList","__proto__":{"polluted":"list"},"items":[${poisonedNode}]}}`;

  const res = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: body, headers: json });
  t.equal(res.statusCode, 200, res.body);
  t.notOk(polluted(), 'Object.prototype is untouched');
  const handed = seen.nodes[0];
  t.ok(handed, 'the plugin saw the node');
  t.equal(Object.getPrototypeOf(handed), Object.prototype, 'the node is a plain object');
  t.equal(Object.getPrototypeOf(handed?.metadata.labels), Object.prototype, 'its labels are a plain object');
  t.equal(handed?.metadata.labels?.['zone'], 'a', 'the labels read as sent');
  t.ok(Object.hasOwn(handed?.metadata.labels ?? {}, '__proto__'), '"__proto__" is an own key of the labels');
  t.equal(Object.getPrototypeOf(seen.pods[0]), Object.prototype);

  t.same(JSON.parse(res.body).Nodes.items, JSON.parse(`[${poisonedNode}]`), 'the node comes back with every key it was sent');
  t.match(res.body, /"__proto__":\{"polluted":"list"\}/, 'the NodeList keeps its own keys too');

  const scores = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: body, headers: json });
  t.equal(scores.statusCode, 200, scores.body);
  t.same(scores.json(), [{ Host: 'n9', Score: 10 }], 'the only node is the best');
  t.notOk(polluted());
});

t.test('a node named "__proto__" in names mode pollutes nothing', async (t) => {
  const seen = recorder();
  const { app } = await buildTestApp(t, { plugins: { scheduler: [seen.plugin] }, cluster });
  const payload = { Pod: pod('p'), NodeNames: ['__proto__', 'constructor', 'n1'] };
  const filter = await app.inject({ method: 'POST', url: '/scheduler/filter', payload });
  t.equal(filter.statusCode, 200);
  t.same(filter.json().NodeNames, ['n1']);
  const scores = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload });
  t.equal(scores.statusCode, 200);
  t.same(
    scores.json().map((s: { Host: string }) => s.Host),
    ['n1', '__proto__', 'constructor'],
  );
  t.notOk(polluted());
});

t.test('the scheduler parser still refuses what is not JSON', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const empty = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: '', headers: json });
  t.equal(empty.statusCode, 400);
  t.equal(empty.json().code, 'FST_ERR_CTP_EMPTY_JSON_BODY');
  const broken = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: '{"Pod":{', headers: json });
  t.equal(broken.statusCode, 400);
  t.equal(broken.json().code, 'FST_ERR_CTP_INVALID_JSON_BODY');
});

t.test("routes outside the scheduler keep fastify's prototype-poisoning check", async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const payload = '{"content":"hi","direction":"input","__proto__":{"polluted":"x"}}';
  t.doesNotThrow(() => JSON.parse(payload), 'the body is well-formed JSON');
  const res = await app.inject({ method: 'POST', url: '/guardrails/check', payload, headers: json });
  t.equal(res.statusCode, 400, 'refused for its "__proto__" key');
  t.equal(res.json().code, 'FST_ERR_CTP_INVALID_JSON_BODY');
  t.notOk(polluted());
});

t.test('filter and prioritize answer JSON with the wire field names', async (t) => {
  const seen = recorder();
  const { app } = await buildTestApp(t, { plugins: { scheduler: [seen.plugin] }, cluster });
  const filter = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: { Pod: pod('p'), NodeNames: ['n1'] } });
  t.match(filter.headers['content-type'], /^application\/json/);
  t.same(Object.keys(filter.json()).sort(), ['Error', 'FailedAndUnresolvableNodes', 'FailedNodes', 'NodeNames', 'Nodes']);
  const scores = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: { Pod: pod('p'), NodeNames: ['n1'] } });
  t.match(scores.headers['content-type'], /^application\/json/);
  t.equal(scores.body, '[{"Host":"n1","Score":10}]');
});
