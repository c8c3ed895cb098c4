/** The static and pods metrics providers, and the autoscaler plugins on their own. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { slo as sloDefinition } from '../../extenders/builtin/autoscaler/slo.ts';
import type { AutoscalerContext } from '../../src/autoscaling/recommendation-chain.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { clusterWith, instanceOf, pool, STATIC_ONLY, T0, testApp } from './helpers.ts';

const log = createLogger('silent');

interface Reply {
  desiredReplicas: number;
  reason: string;
  metrics: { type: string; status: string; value: number | null; reason?: string; source: string | null }[];
}

t.test('static provider: annotations, per-pool config, global config, bad values', async (t) => {
  const pools = [
    pool(
      'annotated',
      { autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } },
      { metadata: { name: 'annotated', annotations: { 'metrics.neuronetes.io/queue_depth': '55' } } },
    ),
    pool('configured', {
      autoscaling: {
        metrics: [
          { type: 'queue-depth', target: '10' },
          { type: 'concurrent-sessions', target: '10' },
        ],
      },
    }),
    pool(
      'broken',
      { autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } },
      { metadata: { name: 'broken', annotations: { 'metrics.neuronetes.io/queue-depth': 'many' } } },
    ),
  ];
  const { app } = await testApp(
    {
      ...STATIC_ONLY,
      'metrics-provider-plugins': [
        ...STATIC_ONLY['metrics-provider-plugins'],
        { name: 'static', config: { pools: { 'test/configured': { 'queue-depth': 21 } }, values: { 'concurrent-sessions': 42 } } },
      ],
    },
    { cluster: clusterWith(pools) },
  );
  t.teardown(() => app.close());
  const get = (name: string) => app.inject({ method: 'GET', url: `/autoscaler/pools/test/${name}?currentReplicas=2&dryRun=true` }).then((r) => r.json<Reply>());
  t.equal((await get('annotated')).metrics[0]?.value, 55);
  t.same(
    (await get('configured')).metrics.map((m) => m.value),
    [21, 42],
  );
  const broken = await get('broken');
  t.equal(broken.metrics[0]?.status, 'failed');
  t.match(broken.metrics[0]?.reason, /not a number/);
});

function listen(server: Server, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

t.test('pods provider scrapes the pool pods', async (t) => {
  let scrapes = 0;
  const exporter = (queue: number, ttft: number) =>
    createServer((_req, res) => {
      scrapes++;
      res.end(
        `# TYPE neuronetes_queue_depth gauge\nneuronetes_queue_depth{worker="a"} ${queue}\nneuronetes_queue_depth{worker="b"} 1\nneuronetes_ttft_p95 ${ttft}\n`,
      );
    });
  const a = exporter(10, 0.3);
  const port = await listen(a, '127.0.0.1');
  const b = exporter(20, 0.7);
  await listen(b, '127.0.0.2', port);
  t.teardown(async () => {
    await new Promise((r) => a.close(r));
    await new Promise((r) => b.close(r));
  });
  const p = pool('scraped', {
    autoscaling: {
      metrics: [
        { type: 'queue-depth', target: '4' },
        { type: 'ttft-p95', target: '500ms' },
      ],
    },
  });
  const podOf = (name: string, ip: string, phase = 'Running') => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'test', labels: { 'neuronetes.io/agent-pool': 'scraped' } },
    spec: { nodeName: 'n1', containers: [{ name: 'agent' }] },
    status: { phase, podIP: ip },
  });
  const dir = clusterWith([p]);
  const { writeFileSync } = await import('node:fs');
  const { stringify } = await import('yaml');
  writeFileSync(
    `${dir}/pods.yaml`,
    [podOf('p1', '127.0.0.1'), podOf('p2', '127.0.0.2'), podOf('p3', '127.0.0.3'), podOf('done', '127.0.0.4', 'Succeeded')]
      .map((x) => stringify(x))
      .join('---\n'),
  );
  const { app } = await testApp(
    {
      ...STATIC_ONLY,
      'metrics-provider-plugins': [
        { name: 'prometheus', enabled: false },
        { name: 'pods', config: { port } },
      ],
    },
    { cluster: dir },
  );
  t.teardown(() => app.close());
  const d = (await app.inject({ method: 'GET', url: '/autoscaler/pools/test/scraped?currentReplicas=3&dryRun=true' })).json<Reply>();
  t.same(
    d.metrics.map((m) => [m.type, m.status, m.value, m.source]),
    [
      ['queue-depth', 'ok', 32, 'pods'],
      ['ttft-p95', 'ok', 0.7, 'pods'],
    ],
    'queue depth summed over pods and series; ttft the worst pod; the unreachable third pod left out',
  );
  t.equal(scrapes, 2, 'each pod scraped once per decision, not once per metric');
  t.equal(d.desiredReplicas, 7, 'wants ceil(32 / 4) = 8; the default rate allows 3 + 4');

  const lonely = clusterWith([p]);
  writeFileSync(`${lonely}/pods.yaml`, stringify(podOf('p3', '127.0.0.3')));
  const down = await testApp(
    {
      ...STATIC_ONLY,
      'metrics-provider-plugins': [
        { name: 'prometheus', enabled: false },
        { name: 'pods', config: { port } },
      ],
    },
    { cluster: lonely },
  );
  t.teardown(() => down.app.close());
  const failed = (await down.app.inject({ method: 'GET', url: '/autoscaler/pools/test/scraped?currentReplicas=3&dryRun=true' })).json<Reply>();
  t.equal(failed.metrics[0]?.status, 'failed');
  t.match(failed.metrics[0]?.reason, /no pod of scraped could be scraped/);
  t.equal(failed.reason, 'MetricsUnavailable');
});

function autoscalerCtx(config: Record<string, unknown>, current: number, now = T0): AutoscalerContext {
  return {
    signal: AbortSignal.timeout(1000),
    log,
    config,
    now,
    currentReplicas: current,
    readyReplicas: current,
    metricKinds: new Map(),
    latencyMetrics: new Set(['ttft-p95']),
  };
}

t.test('slo plugin: backlog, latency, panic window, scale-down under the SLO', async (t) => {
  const slo = instanceOf(sloDefinition);
  const p = pool('llm', {
    minReplicas: 1,
    maxReplicas: 50,
    autoscaling: {
      metrics: [
        { type: 'ttft-p95', target: '500ms' },
        { type: 'tokens-in-queue', target: '500' },
      ],
    },
  });
  t.equal(slo.calculateReplicas(autoscalerCtx({}, 4), p, { 'tokens-in-queue': 3000, 'ttft-p95': 0.5 }), 6, 'backlog wants 6');
  t.equal(slo.calculateReplicas(autoscalerCtx({}, 4), p, { 'tokens-in-queue': 100, 'ttft-p95': 0.75 }), 6, 'latency wants ceil(4 × 1.5)');
  // A burst: TTFT at 2.4× the SLO → panic.
  t.equal(slo.calculateReplicas(autoscalerCtx({}, 4, T0), p, { 'tokens-in-queue': 100, 'ttft-p95': 1.2 }), 10);
  // 30 s later the burst is over, but the panic window (60 s) forbids scaling down.
  t.equal(slo.calculateReplicas(autoscalerCtx({}, 10, T0 + 30_000), p, { 'tokens-in-queue': 100, 'ttft-p95': 0.1 }), 10, 'no scale-down in panic');
  // After the window: scale down only as far as the projected TTFT stays under 80 % of the SLO.
  t.equal(slo.calculateReplicas(autoscalerCtx({}, 10, T0 + 120_000), p, { 'tokens-in-queue': 100, 'ttft-p95': 0.1 }), 3, 'ceil(0.1 × 10 / 0.4)');
  t.equal(slo.calculateReplicas(autoscalerCtx({}, 10, T0 + 130_000), p, { 'tokens-in-queue': 100 }), 10, 'blind to latency: no scale-down');
  t.throws(() => slo.calculateReplicas(autoscalerCtx({}, 10), p, {}), /neither/);
  t.throws(
    () => instanceOf(sloDefinition, { panicThreshold: -1 }),
    /config\.panicThreshold is -1; it must be > 0/,
    'a bad setting fails when the plugin is made',
  );
  const patient = instanceOf(sloDefinition, { panicWindow: '10s', sloHeadroom: 1 });
  t.equal(patient.calculateReplicas(autoscalerCtx({}, 4, T0), p, { 'ttft-p95': 1.2 }), 10, 'panic');
  t.equal(
    patient.calculateReplicas(autoscalerCtx({}, 10, T0 + 20_000), p, { 'ttft-p95': 0.1 }),
    2,
    'its own panic window (10s) is over; down to ceil(0.1 × 10 / (1 × 0.5))',
  );
});

t.test('multi-metric recommends the largest per-metric proposal the decision reports: one maths for both', async (t) => {
  const { app } = await testApp(STATIC_ONLY);
  t.teardown(() => app.close());
  const decide = async (metrics: Record<string, number>) =>
    (
      await app.inject({
        method: 'POST',
        url: '/autoscaler/decide',
        payload: { pool: { namespace: 'agents', name: 'support-bot' }, currentReplicas: 4, metrics, dryRun: true },
      })
    ).json<{
      metrics: { type: string; replicas: number | null }[];
      recommendations: { plugin: string; replicas: number | null }[];
    }>();
  for (const metrics of [{ 'concurrent-sessions': 140, 'queue-depth': 12 }, { 'concurrent-sessions': 20, 'queue-depth': 95 }, { 'queue-depth': 0 }]) {
    const d = await decide(metrics);
    const asked = d.metrics.flatMap((m) => (m.replicas === null ? [] : [m.replicas]));
    t.equal(d.recommendations.find((r) => r.plugin === 'multi-metric')?.replicas, Math.max(...asked), JSON.stringify(metrics));
  }
});
