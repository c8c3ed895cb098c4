/**
 * The plugins' preference survives the trip to the real kube-scheduler. The service runs the built-in
 * plugins with their documented defaults (the config sets only the trace size); each pod may go to exactly two nodes (a pair picked
 * by its nodeSelector) that differ in one thing only, so kube-scheduler's own scores tie and the
 * extender's wire score alone decides. Before relative wire scores, the cheaper node won about half the
 * time (both totals rounded to the same 0..10 score, and the scheduler broke the tie at random).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { request } from 'undici';
import { parse } from 'yaml';
import { Annotations, Labels } from '../../src/api/neuronetes.ts';
import { KubernetesSource } from '../../src/cluster/kubernetes-source.ts';
import { buildApp } from '../../src/server/app.ts';
import { eventually, findKubeBinaries, forEachConcurrently, freePort } from './control-plane.ts';
import { REPO, agentPool, createAgentObjects, createCustom, createGpuNodes, createPod, startAgentCluster, type NodeShape } from './kube-fixtures.ts';

const PAIR = 'e2e.neuronetes.io/pair';
const TRIES = 20;

interface Scenario {
  name: string;
  pool: string;
  /** The node that must win, and the one that must lose: the same but for these. */
  better: Partial<NodeShape>;
  worse: Partial<NodeShape>;
}

const price = (dollars: number): Partial<NodeShape> => ({ labels: { [Labels.costPerHour]: String(dollars) } });
const SCENARIOS: Scenario[] = [
  // The issue's nodes: $12/h and $32/h, cost scores 45 and 24.
  { name: 'price', pool: 'priced', better: price(12), worse: price(32) },
  { name: 'cache', pool: 'cached', better: { annotations: { [Annotations.cachedModels]: 'llama' } }, worse: {} },
  // Cost scores 50 and 45: the totals differ by a little over one point.
  { name: 'close', pool: 'priced', better: price(10), worse: price(12.2) },
];
const MODES = [
  { mode: 'names', file: 'scheduler-config.yaml' },
  { mode: 'nodes', file: 'scheduler-config-full-nodes.yaml' },
] as const;

interface Prioritized {
  verb: string;
  pod: string;
  summary: string;
  nodes: Record<string, { score: number; wireScore: number }>;
}

const bins = findKubeBinaries();
if ('skip' in bins) {
  t.plan(0, `e2e skipped: ${bins.skip}`);
} else {
  t.setTimeout(240_000);
  const started = Date.now();
  const log = pino({ level: process.env['E2E_LOG'] ?? 'silent' });
  const ns = 'agents';
  const { cp, kc } = await startAgentCluster(t, bins, ns);
  await createAgentObjects(kc, ns, 'cached');
  await createCustom(kc, ns, 'agentpools', agentPool('priced', { scheduling: { costOptimization: { enabled: true, spotEnabled: true } } }));

  // Node `-a` wins in even pairs and `-b` in odd ones, so no name order can pass for a preference.
  t.comment(`control plane: ${Math.round((Date.now() - started) / 1000)}s`);
  const pairs = MODES.flatMap(({ mode }) =>
    SCENARIOS.flatMap((s) => Array.from({ length: TRIES }, (_, i) => ({ mode, scenario: s, id: `${mode}-${s.name}-${i}`, winner: i % 2 === 0 ? 'a' : 'b' }))),
  );
  const shape = (id: string, extra: Partial<NodeShape>): NodeShape => ({ gpus: 8, ...extra, labels: { ...extra.labels, [PAIR]: id } });
  await createGpuNodes(
    kc,
    pairs.flatMap(({ id, scenario, winner }) => [
      { name: `${id}-a`, shape: shape(id, winner === 'a' ? scenario.better : scenario.worse) },
      { name: `${id}-b`, shape: shape(id, winner === 'b' ? scenario.better : scenario.worse) },
    ]),
    32,
  );

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cluster = new KubernetesSource({ kubeConfig: cp.kubeConfig(), log });
  // Only the trace is configured, to keep every call; the plugins run with their documented defaults.
  const configPath = join(cp.dir, 'neuronetes.yaml');
  await writeFile(configPath, 'scheduler: {traceSize: 1000}\n');
  const app = await buildApp({ cluster, logger: log, configPath, watchConfig: false });
  t.teardown(() => app.close());
  await app.listen({ port, host: '127.0.0.1' });
  await eventually('the extender to see every node', () => (cluster.view().nodes().length === pairs.length * 2 ? true : undefined), 60_000);

  for (const { mode, file } of MODES) {
    const config = parse(await readFile(join(REPO, 'scheduler-config', file), 'utf8')) as { extenders: Record<string, unknown>[] };
    await cp.startScheduler(`scheduler-${mode}`, {
      ...config,
      profiles: [{ schedulerName: `neuronetes-${mode}` }],
      extenders: config.extenders.map((e) => ({ ...e, urlPrefix: `${base}/scheduler` })),
    });
  }
  t.comment(`set-up: ${Math.round((Date.now() - started) / 1000)}s for ${pairs.length * 2} nodes`);

  // Every pod at once: each has its own pair, so no placement changes another's scores.
  const core = kc.makeApiClient(CoreV1Api);
  await forEachConcurrently(pairs, 8, async ({ mode, scenario, id }) => {
    await createPod(kc, ns, id, { gpus: 1, pool: scenario.pool, schedulerName: `neuronetes-${mode}`, nodeSelector: { [PAIR]: id } });
  });
  const placed = await eventually(
    `all ${pairs.length} pods to be bound`,
    async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items;
      const bound = new Map(pods.filter((p) => (p.spec?.nodeName ?? '') !== '').map((p) => [p.metadata?.name ?? '', p.spec?.nodeName ?? '']));
      return bound.size === pairs.length ? bound : undefined;
    },
    120_000,
    500,
  );
  t.comment(`all placed: ${Math.round((Date.now() - started) / 1000)}s`);

  const traced = async (pod: string): Promise<Prioritized | undefined> => {
    const { body } = await request(`${base}/debug/plugins/scheduler/trace?pod=${encodeURIComponent(`${ns}/${pod}`)}&limit=5`);
    return ((await body.json()) as { decisions: Prioritized[] }).decisions.find((d) => d.verb === 'prioritize');
  };

  for (const { mode } of MODES) {
    for (const scenario of SCENARIOS) {
      t.test(`${mode} mode, ${scenario.name}: the better node wins ${TRIES} times out of ${TRIES}`, async (t) => {
        const mine = pairs.filter((p) => p.mode === mode && p.scenario === scenario);
        const wins = mine.filter(({ id, winner }) => placed.get(id) === `${id}-${winner}`);
        t.equal(
          wins.length,
          TRIES,
          `lost in: ${
            mine
              .filter((p) => !wins.includes(p))
              .map((p) => p.id)
              .join(', ') || 'none'
          }`,
        );
        const first = mine[0];
        if (first === undefined) return;
        const call = await traced(first.id);
        const better = call?.nodes[`${first.id}-a`];
        const worse = call?.nodes[`${first.id}-b`];
        if (better === undefined || worse === undefined) return t.fail(`no prioritize trace for ${first.id}`);
        t.equal(better.wireScore, 10, 'the better node is sent as 10');
        t.ok(worse.wireScore < 10, `the worse one below it (${worse.score} → ${worse.wireScore})`);
        t.match(call?.summary, new RegExp(`best ${first.id}-a \\(total ${better.score} → 10/10, relative\\)`));
        const gap = better.score - worse.score;
        t.ok(gap > 0, `totals ${better.score} and ${worse.score}`);
        if (scenario.name === 'close') t.ok(gap >= 1 && gap < 2, `totals ${better.score} and ${worse.score}: about one point apart`);
        if (scenario.name === 'price') t.ok(gap < 10, `totals ${better.score} and ${worse.score}: less than one absolute wire point apart`);
      });
    }
  }
}
