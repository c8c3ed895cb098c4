import t from 'tap';
import type { SchedulerPlugin } from '../../src/plugins/types.ts';
import { node, pod } from '../helpers/cluster-fixtures.ts';
import { buildTestApp } from '../helpers/test-app.ts';

const keepAll: SchedulerPlugin = { name: () => 'keep-all', filter: () => true };
const cluster = { nodes: [node('n1')], pods: [], agentPools: [], agentClasses: [], models: [] };

t.test('malformed bodies get 400 with a message, and the service keeps serving', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [keepAll] }, cluster });
  const cases: [string, string, RegExp][] = [
    ['/scheduler/filter', '{"Pod":', /not valid JSON/],
    ['/scheduler/filter', '[]', /body must be object/],
    ['/scheduler/filter', '{"NodeNames":["n1"]}', /must have required property 'Pod'/],
    ['/scheduler/filter', '{"Pod":{"metadata":{"name":7}},"NodeNames":["n1"]}', /name must be string/],
    ['/scheduler/filter', '{"Pod":{"metadata":{}},"NodeNames":"n1"}', /NodeNames/],
    // Every key of a map is checked, one holding a line break too.
    ['/scheduler/filter', '{"Pod":{"metadata":{"labels":{"a\\nb":1}}},"NodeNames":["n1"]}', /labels[\s\S]*must be string/],
    [
      '/scheduler/filter',
      '{"Pod":{"metadata":{}},"Nodes":{"items":[{"metadata":{"name":"n1"},"status":{"allocatable":{"nvidia.com/gpu":true}}}]}}',
      /allocatable/,
    ],
    ['/scheduler/prioritize', '{"Pod":{"metadata":{}},"Nodes":{"items":[{"metadata":{}}]}}', /name/],
    ['/scheduler/bind', '{"PodName":"p","PodNamespace":"ns","PodUID":"u"}', /must have required property 'Node'/],
    ['/scheduler/preempt', '{"Pod":{"metadata":{}},"NodeNameToMetaVictims":{"n1":{"Pods":[{"uid":1}]}}}', /UID/],
  ];
  for (const [url, payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
    t.equal(res.statusCode, 400, `${url} ${payload}`);
    t.match(res.json().message, message, `${url} ${payload}`);
  }
  const ok = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: { Pod: pod('p'), NodeNames: ['n1'] } });
  t.same(ok.json().NodeNames, ['n1']);
});

t.test('ExtenderArgs with neither Nodes nor NodeNames is a client error', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [keepAll] }, cluster });
  const res = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: { Pod: pod('p') } });
  t.equal(res.statusCode, 400);
  t.equal(res.json().code, 'NN_NO_CANDIDATES');
});

t.test('numbers are not coerced from strings: wrong types are errors', async (t) => {
  const { app } = await buildTestApp(t, { cluster });
  const res = await app.inject({
    method: 'POST',
    url: '/scheduler/preempt',
    payload: { Pod: pod('p'), NodeNameToMetaVictims: { n1: { Pods: [], NumPDBViolations: '2' } } },
  });
  t.equal(res.statusCode, 400);
  t.match(res.json().message, /NumPDBViolations must be integer/);
});

t.test('oversized bodies get 413', async (t) => {
  const { app } = await buildTestApp(t, { cluster, bodyLimit: 1024 });
  const res = await app.inject({
    method: 'POST',
    url: '/scheduler/filter',
    payload: { Pod: pod('p'), NodeNames: Array.from({ length: 200 }, (_, i) => `node-${i}`) },
  });
  t.equal(res.statusCode, 413);
  t.match(res.json().message, /too large/i);
});

t.test('the default body limit takes a full NodeList of thousands of nodes', async (t) => {
  const { app } = await buildTestApp(t, { plugins: { scheduler: [keepAll] } });
  const items = Array.from({ length: 3000 }, (_, i) => ({ ...node(`node-${i}`, { 'neuronetes.io/gpu-type': 'A100', filler: 'x'.repeat(400) }, 8) }));
  const payload = JSON.stringify({ Pod: pod('p'), Nodes: { items } });
  t.ok(payload.length > 1024 * 1024, `body is ${(payload.length / 2 ** 20).toFixed(1)} MiB, over fastify's 1 MiB default`);
  const res = await app.inject({ method: 'POST', url: '/scheduler/filter', payload, headers: { 'content-type': 'application/json' } });
  t.equal(res.statusCode, 200);
  t.equal(res.json().Nodes.items.length, 3000);
});
