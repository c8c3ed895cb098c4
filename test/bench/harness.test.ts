/**
 * The benchmark harness is code too: its clusters must be deterministic and consistent, a quick run
 * must produce well-formed rows against a real server, and the regression check must catch a
 * regression and let noise through. Nothing here asserts how fast anything is.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { GPU_RESOURCE } from '../../src/api/kubernetes.ts';
import { Labels } from '../../src/api/neuronetes.ts';
import { tryParseQuantity } from '../../src/util/quantity.ts';
import { generateCluster } from '../../bench/cluster-generator.ts';
import { check, headline, table, type Results } from '../../bench/report.ts';
import { parseOptions, runBench } from '../../bench/run.ts';
import type { Row } from '../../bench/scenarios.ts';
import { tempDir } from '../helpers/test-app.ts';

t.test('generated clusters are deterministic, consistent and varied', async (t) => {
  const a = generateCluster(300, 7);
  // Compared as JSON: a deep compare of thousands of objects took seconds of a loaded machine.
  t.equal(JSON.stringify(generateCluster(300, 7)), JSON.stringify(a), 'same size and seed, same cluster');
  t.not(JSON.stringify(generateCluster(300, 8).objects.nodes), JSON.stringify(a.objects.nodes), 'another seed, another cluster');
  const { nodes, pods, agentPools, agentClasses, models } = a.objects;
  t.equal(nodes.length, 300);
  t.equal(new Set(nodes.map((n) => n.metadata.name)).size, 300, 'node names are unique');

  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
  const used = new Map<string, number>();
  // One assertion for all pods, not one each: thousands of TAP lines cost seconds on a loaded machine.
  t.same(
    pods.filter((p) => p.spec?.nodeName === undefined || !byName.has(p.spec.nodeName)).map((p) => p.metadata.name),
    [],
    'every pod is bound to a known node',
  );
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    const gpus = tryParseQuantity(pod.spec?.containers?.[0]?.resources?.requests?.[GPU_RESOURCE]) ?? 0;
    used.set(node as string, (used.get(node as string) ?? 0) + gpus);
  }
  const overcommitted = nodes.filter((n) => (used.get(n.metadata.name) ?? 0) > Number(n.status?.allocatable?.[GPU_RESOURCE]));
  t.same(
    overcommitted.map((n) => n.metadata.name),
    [],
    'no node has more GPUs requested than allocatable',
  );

  const types = new Set(nodes.map((n) => n.metadata.labels?.[Labels.gpuType]));
  t.ok(types.size >= 4, 'several GPU types');
  t.ok(
    nodes.some((n) => n.metadata.labels?.[Labels.migConfig] !== undefined),
    'some MIG nodes',
  );
  t.ok(
    nodes.some((n) => n.metadata.labels?.[Labels.capacityType] === 'spot'),
    'some spot nodes',
  );
  t.ok(
    nodes.some((n) => n.metadata.annotations?.['neuronetes.io/cached-models'] !== undefined),
    'some nodes with cached models',
  );
  t.ok(
    pods.some((p) => p.metadata.labels?.['neuronetes.io/vector-store'] !== undefined),
    'some pods carry data-locality labels',
  );

  for (const pool of agentPools) {
    const cls = agentClasses.find((c) => c.metadata.name === pool.spec.agentClassRef.name);
    t.ok(cls, `${pool.metadata.name}'s AgentClass exists`);
    t.ok(
      models.some((m) => m.metadata.name === cls?.spec.modelRef.name),
      `${pool.metadata.name}'s Model exists`,
    );
  }
  t.equal(a.pendingPods.length, agentPools.length + 1, 'one pending pod per pool, and one of no pool');
  t.ok(
    a.pendingPods.every((p) => p.spec?.nodeName === undefined),
    'pending pods are unbound',
  );
});

t.test('options: defaults, --quick, and bad values', async (t) => {
  t.same(parseOptions([]).nodes, [100, 1000, 5000]);
  const quick = parseOptions(['--quick', '--only', 'filter/names,memory', '--only', 'reload']);
  t.same(quick.nodes, [100]);
  t.same(quick.only, ['filter/names', 'memory', 'reload']);
  t.throws(() => parseOptions(['--nodes', 'lots']), /--nodes takes whole numbers/);
  t.throws(() => parseOptions(['--seed', '1.5']), /--seed takes a whole number/);
  t.throws(() => parseOptions(['--fast']), /Unknown option/);
  t.throws(() => parseOptions(['--quick', '--check']), /drop --quick/);
});

/**
 * One quick run serves the three tests below: each run starts a server and warms it up in every
 * mode, which on a loaded machine took most of this file's two minutes when done three times.
 */
const lines: string[] = [];
let quickRun: Promise<{ dir: string; results: Results; passed: boolean }> | undefined;
function sharedQuickRun(): Promise<{ dir: string; results: Results; passed: boolean }> {
  quickRun ??= tempDir(t, 'neuronetes-bench-').then(async (dir) => ({
    dir,
    ...(await runBench({
      ...parseOptions(['--quick', '--only', 'filter/names/100,guardrails/check,memory,filter+prioritize']),
      resultsDir: dir,
      log: (line) => lines.push(line),
    })),
  }));
  return quickRun;
}
const rowsOf = (results: Results, kind: 'verbs' | 'memory' | 'cycle'): Row[] =>
  results.rows.filter((r) => (r.id.startsWith('memory/') ? 'memory' : r.id.includes('filter+prioritize') ? 'cycle' : 'verbs') === kind);

t.test('a quick run drives the real server and the floor, and writes its results', async (t) => {
  const { dir, results, passed } = await sharedQuickRun();
  t.equal(passed, true, 'no --check, nothing to fail');
  const verbs = rowsOf(results, 'verbs');
  const ids = verbs.map((r) => r.id);
  t.same(ids.slice(0, 3), ['filter/names/100/c1', 'floor-route/filter/names/100/c1', 'filter/names/100/c8']);
  const ours = verbs[0] as Row;
  t.ok((ours.calls ?? 0) > 0 && Number.isFinite(ours.p50Ms) && Number.isFinite(ours.p99Ms), 'calls were measured');
  t.ok((ours.responseBytes ?? 0) > 0 && (ours.requestBytes ?? 0) > 0, 'payload sizes are recorded');
  t.ok(Number.isFinite(ours.ratioRoute) && Number.isFinite(ours.ratioJson) && Number.isFinite(ours.ratioCpu), 'ratios to the floor are computed');
  const guardrail = verbs.find((r) => r.id.startsWith('guardrails/check'));
  t.ok(
    guardrail !== undefined && (guardrail.kind === 'skipped' ? guardrail.note === 'skipped: route not present' : guardrail.kind === 'latency'),
    'an optional route is measured, or skipped when absent',
  );
  const written = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as Results;
  t.same(written.rows, results.rows);
  t.equal(written.meta['quick'], true);
  t.ok(
    lines.some((l) => /^filter\/names\/100\/c1 /m.test(l)),
    'the table is printed',
  );
  t.ok(
    lines.some((l) => l.includes('not measured')),
    'targets this run did not measure say so',
  );
});

t.test('a quick memory run reads the server, run with the service settings, after the cache and after the calls', async (t) => {
  const memory = rowsOf((await sharedQuickRun()).results, 'memory');
  t.same(
    memory.map((r) => r.id),
    ['memory/100/cache-built', 'memory/100/steady', 'memory/100/after-calls'],
  );
  for (const row of memory) {
    const m = row.memory;
    t.ok(m !== undefined && m.rssMb > m.heapUsedMb && m.heapTotalMb >= m.heapUsedMb && m.heapUsedMb > 0, `${row.id}: rss above heap total above heap used`);
    // --max-old-space-size=512 plus the young generation; left to itself V8 sizes it from the host.
    t.ok(
      m !== undefined && m.heapLimitMb !== undefined && m.heapLimitMb >= 512 && m.heapLimitMb < 700,
      `${row.id}: heap limit ${m?.heapLimitMb} MB is the service's`,
    );
  }
  t.match(memory[1]?.note, /after 100 names-mode calls/);
  t.match(memory[2]?.note, /after 200 more names-mode calls/);
});

t.test('the scheduling cycle is measured through ours and through the floor route', async (t) => {
  const cycle = rowsOf((await sharedQuickRun()).results, 'cycle');
  t.same(
    cycle.map((r) => r.id),
    ['filter+prioritize/names/100/c1', 'floor-route/filter+prioritize/names/100/c1'],
  );
  const [ours, floor] = cycle as [Row, Row];
  t.equal(ours.floorRouteP50Ms, floor.p50Ms, "the cycle row carries the floor's p50");
  t.ok((floor.calls ?? 0) > 0 && Number.isFinite(floor.p99Ms), "the floor's cycles were measured");
  const rows: Row[] = [
    { id: 'filter+prioritize/names/5000/c1', kind: 'latency', p50Ms: 9, p99Ms: 30, cpuMsPerCall: 9 },
    { id: 'floor-route/filter+prioritize/names/5000/c1', kind: 'latency', p50Ms: 5, p99Ms: 17 },
  ];
  t.match(
    headline(rows)[0],
    /p99 30.00 ms, server CPU 9.00 ms per cycle; the trivial extender's cycle: p50 5.00 ms, p99 17.00 ms \(target p99 < 10 ms\): MISSED/,
  );
});

t.test("the default guardrail chain is judged on CPU per check against the issue's 5,000 checks/s, and on linear growth", async (t) => {
  const chain = (size: string, cpuMsPerCall: number): Row => ({ id: `guardrails/chain/${size}`, kind: 'latency', cpuMsPerCall, callsPerSec: 900, p99Ms: 3 });
  const fast = headline([chain('1kb', 0.16), chain('10kb', 1.2), chain('100kb', 11)]);
  t.match(fast.join('\n'), /1 KB: 0.160 ms CPU per check = 6250 checks\/s on one core \(900\/s wall, p99 3.00 ms\).*: met/, 'CPU decides, not the wall time');
  t.match(fast.join('\n'), /CPU per KB 1kb 160 µs, 10kb 120 µs, 100kb 110 µs; per check 10kb 7.5×, 100kb 9.2× the size before .*: met/);
  const slow = headline([chain('1kb', 0.35), chain('10kb', 2.2), chain('100kb', 40)]).join('\n');
  t.match(slow, /0.350 ms CPU per check = 2857 checks\/s.*MISSED/);
  t.match(slow, /100kb 18.2× the size before .*: MISSED/, 'super-linear growth is reported');
  t.ok(headline([]).includes('default guardrail chain: not measured'));
});

t.test('the regression check catches regressions and tolerates noise', async (t) => {
  const row = (id: string, extra: Partial<Row>): Row => ({ id, kind: 'latency', ...extra });
  const baseline: Results = {
    meta: {},
    rows: [
      row('filter/names/1000/c1', { p50Ms: 2, p99Ms: 5, callsPerSec: 400, ratioCpu: 2 }),
      { id: 'memory/5000/after-calls', kind: 'memory', memory: { rssMb: 200, heapUsedMb: 50, heapTotalMb: 100, externalMb: 10 } },
      row('prioritize/names/5000/c1', { p50Ms: 5, p99Ms: 9, cpuMsPerCall: 4 }),
      row('floor-route/prioritize/names/5000/c1', { p50Ms: 1 }),
    ],
  };
  const noisy: Results = {
    meta: {},
    rows: [
      row('filter/names/1000/c1', { p50Ms: 4, p99Ms: 14, callsPerSec: 200, ratioCpu: 3 }),
      { id: 'memory/5000/after-calls', kind: 'memory', memory: { rssMb: 260, heapUsedMb: 60, heapTotalMb: 120, externalMb: 10 } },
    ],
  };
  t.same(check(noisy, baseline), { failures: [], compared: 2 }, 'twice as slow on a busy machine passes; unmeasured rows are not compared');
  const neighbours: Results = {
    meta: {},
    rows: [row('prioritize/names/5000/c1', { p50Ms: 50, p99Ms: 900, cpuMsPerCall: 5 }), row('floor-route/prioritize/names/5000/c1', { p50Ms: 30 })],
  };
  t.same(check(neighbours, baseline).failures, [], 'slow wall time with the same CPU per call is the neighbours, not a regression; the floor is not checked');
  const costlier: Results = { meta: {}, rows: [row('prioritize/names/5000/c1', { p50Ms: 50, cpuMsPerCall: 40 })] };
  t.same(
    check(costlier, baseline).failures.map((f) => f.what.split(' ')[0]),
    ['server', 'p50'],
    'more CPU per call confirms the slower wall time',
  );
  const regressed: Results = {
    meta: {},
    rows: [
      row('filter/names/1000/c1', { p50Ms: 20, p99Ms: 500, callsPerSec: 90, ratioCpu: 9 }),
      { id: 'memory/5000/after-calls', kind: 'memory', memory: { rssMb: 500, heapUsedMb: 50, heapTotalMb: 100, externalMb: 10 } },
    ],
  };
  const { failures } = check(regressed, baseline);
  t.same(
    failures.map((f) => f.what.split(' ')[0]),
    ['p50', '90', '9×', 'rss'],
    'slower p50, lower throughput, a worse CPU ratio to the floor and more memory each fail; p99 is not compared',
  );
  t.equal(check({ meta: {}, rows: [] }, baseline).compared, 0);
  t.match(table(regressed.rows), /filter\/names\/1000\/c1 +\d+/);
  t.match(headline(regressed.rows).join('\n'), /1,000 nodes, filter at concurrency 1: 90 calls\/s.*MISSED/);
});
