/**
 * Property-based tests over every POST endpoint, through fastify.inject on the service as `npm start`
 * runs it (example cluster, shipped config, built-in plugins) and the node agent. For any body — a
 * valid example with fields mutated, dropped or added, arbitrary JSON, or text that is not JSON:
 * no 5xx; a 200 matches the route's response schema; a 4xx is the error shape with a message.
 * Fixed seed, bounded runs; FUZZ_RUNS=5000 (and FUZZ_SEED) for a longer run.
 */
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { pino } from 'pino';
import t from 'tap';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { ExtenderBindingResult, ExtenderFilterResult, ExtenderPreemptionResult, HostPriorityList } from '../../src/api/extender.ts';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import { Decision, Simulation } from '../../src/routes/autoscaler-routes.ts';
import { GuardrailCheckResponse } from '../../src/routes/guardrail-routes.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';
import { buildExampleApp, REPO } from '../helpers/example-app.ts';
import { EMPTY_CLUSTER_OBJECTS, tempDir } from '../helpers/test-app.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 40);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261202);
if (RUNS > 40) t.setTimeout(0);

type Json = fc.JsonValue;

const filterArgs = JSON.parse(await readFile(`${REPO}examples/requests/filter-code-assistant.json`, 'utf8')) as { Pod: Json; NodeNames: string[] };
const pool = { namespace: 'agents', name: 'code-assistant' };

interface Endpoint {
  url: string;
  valid: Json;
  ok: TSchema;
}

const ENDPOINTS: Endpoint[] = [
  { url: '/scheduler/filter', valid: filterArgs, ok: ExtenderFilterResult },
  { url: '/scheduler/prioritize', valid: filterArgs, ok: HostPriorityList },
  {
    url: '/scheduler/bind',
    valid: { PodName: 'code-assistant-2', PodNamespace: 'agents', PodUID: '6f1c2a10-0000-4000-8000-000000000010', Node: 'gpu-a100-1' },
    ok: ExtenderBindingResult,
  },
  {
    url: '/scheduler/preempt',
    valid: { Pod: filterArgs.Pod, NodeNameToMetaVictims: { 'gpu-a100-1': { Pods: [{ UID: '6f1c2a10-0000-4000-8000-000000000010' }], NumPDBViolations: 0 } } },
    ok: ExtenderPreemptionResult,
  },
  { url: '/autoscaler/decide', valid: { pool, currentReplicas: 2, metrics: { 'tokens-in-queue': 5200 }, dryRun: true }, ok: Decision },
  {
    url: '/autoscaler/simulate',
    valid: { pool, startReplicas: 2, stepSeconds: 60, series: [{ metrics: { 'tokens-in-queue': 900 } }, { t: 120, metrics: { 'tokens-in-queue': 9000 } }] },
    ok: Simulation,
  },
  { url: '/guardrails/check', valid: { content: 'mail me at a@b.example', direction: 'input', pool, metadata: { k: 'v' } }, ok: GuardrailCheckResponse },
];

/** A change at one place in a body: replace a value, drop a key, or add one. */
type Edit = { path: number[]; op: 'replace'; value: Json } | { path: number[]; op: 'drop' } | { path: number[]; op: 'add'; key: string; value: Json };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ path: fc.array(fc.nat(), { maxLength: 6 }), op: fc.constant('replace' as const), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), op: fc.constant('drop' as const) }),
  fc.record({
    path: fc.array(fc.nat(), { maxLength: 6 }),
    op: fc.constant('add' as const),
    key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'now', 'Nodes', 'NodeNames')),
    value: fc.jsonValue({ maxDepth: 3 }),
  }),
);

/** Applies `e` to a copy of `body`: each path step picks a child by index modulo the child count. */
function apply(body: Json, e: Edit): Json {
  const root = structuredClone(body);
  let parent: Json = null;
  let key: string | number | undefined;
  let here: Json = root;
  for (const step of e.path) {
    if (here === null || typeof here !== 'object') break;
    const keys = Array.isArray(here) ? here.map((_, i) => i) : Object.keys(here);
    if (keys.length === 0) break;
    parent = here;
    key = keys[step % keys.length] as string | number;
    here = (here as Record<string | number, Json>)[key] as Json;
  }
  if (e.op === 'add') {
    if (here !== null && typeof here === 'object' && !Array.isArray(here))
      Object.defineProperty(here, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
    return root;
  }
  if (parent === null || key === undefined) return e.op === 'replace' ? e.value : root;
  const container = parent as Record<string | number, Json> | Json[];
  if (e.op === 'replace') (container as Record<string | number, Json>)[key] = e.value;
  else if (Array.isArray(container)) container.splice(key as number, 1);
  else Reflect.deleteProperty(container, key);
  return root;
}

/** Throws, naming the body, unless the answer is a 200 matching `ok` or a clear 4xx. */
async function checkAnswer(app: NeuroNetesApp, url: string, ok: TSchema | undefined, payload: string): Promise<void> {
  const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
  const where = `${url} ${payload.slice(0, 300)}`;
  if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${where}: ${res.body.slice(0, 300)}`);
  const body: unknown = res.json();
  if (res.statusCode === 200) {
    if (ok !== undefined && !Value.Check(ok, body)) {
      const errors = [...Value.Errors(ok, body)].slice(0, 3).map((e) => `${e.instancePath} ${e.message}`);
      throw new Error(`200 does not match the response schema for ${where}: ${errors.join('; ')}`);
    }
    return;
  }
  const e = body as Record<string, unknown>;
  const message = e['message'];
  const clear =
    res.statusCode >= 400 && e['statusCode'] === res.statusCode && typeof e['code'] === 'string' && typeof message === 'string' && message.length > 0;
  if (!clear) throw new Error(`unclear ${res.statusCode} for ${where}: ${res.body.slice(0, 300)}`);
}

const settings = { seed: SEED, numRuns: RUNS };

t.test('the extender, autoscaler and guardrail POST endpoints', async (t) => {
  const { app } = await buildExampleApp();
  t.teardown(() => app.close());
  for (const endpoint of ENDPOINTS) {
    const { url, ok } = endpoint;
    const valid = await app.inject({ method: 'POST', url, payload: endpoint.valid as object });
    t.equal(valid.statusCode, 200, `${url}: the valid example answers 200`);
    await checkAnswer(app, url, ok, JSON.stringify(endpoint.valid));
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) =>
        checkAnswer(app, url, ok, JSON.stringify(edits.reduce(apply, endpoint.valid))),
      ),
      settings,
    );
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), (body) => checkAnswer(app, url, ok, JSON.stringify(body))),
      settings,
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), (text) => checkAnswer(app, url, ok, text)),
      settings,
    );
    t.pass(`${url}: ${3 * RUNS} bodies, no 5xx, every 200 valid, every 4xx clear`);
  }
  t.same(Object.getPrototypeOf({}), Object.prototype, 'no prototype was polluted');
});

t.test('the node agent POST endpoints', async (t) => {
  const log = pino({ level: 'silent' });
  const cacheDir = await tempDir(t);
  const app = await buildApp({
    cluster: new SnapshotSource({ log, objects: EMPTY_CLUSTER_OBJECTS }),
    registry: new PluginRegistry(),
    logger: log,
    agent: { cacheDir, nodeName: 'n1' },
  });
  t.teardown(() => app.close());
  for (const url of ['/models/load', '/models/unload']) {
    const valid = { name: 'llama-3-8b', namespace: 'agents' };
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => checkAnswer(app, url, undefined, JSON.stringify(edits.reduce(apply, valid)))),
      settings,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          fc.string({ maxLength: 100 }),
        ),
        (text) => checkAnswer(app, url, undefined, text),
      ),
      settings,
    );
    t.pass(`${url}: ${2 * RUNS} bodies, no 5xx, every 4xx clear`);
  }
});
