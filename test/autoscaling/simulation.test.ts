/** POST /autoscaler/simulate, and the example trace in examples/autoscaler with its recorded output. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testApp } from './helpers.ts';
import { parse } from 'yaml';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const shippedConfig = parse(readFileSync(join(EXAMPLES, 'config', 'neuronetes.yaml'), 'utf8')) as Record<string, unknown>;
const read = (f: string): unknown => JSON.parse(readFileSync(join(EXAMPLES, 'autoscaler', f), 'utf8'));

interface Simulation {
  steps: { t: number; desiredReplicas: number; overTarget: boolean }[];
  scaleEvents: { from: number; to: number; reason: string }[];
  summary: { gpuHours: number; replicaHours: number; timeOverTargetSeconds: number; maxReplicas: number; scaleUps: number; scaleDowns: number };
}

t.test('the example burst trace gives the recorded output', async (t) => {
  const { app } = await testApp(shippedConfig);
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'POST', url: '/autoscaler/simulate', payload: read('simulate-burst.json') as object });
  t.equal(res.statusCode, 200);
  const sim = res.json<Simulation>();
  t.same(sim, read('simulate-burst.output.json'));
  t.ok(Math.abs(sim.summary.gpuHours - sim.summary.replicaHours * 2) < 1e-3, 'two GPUs per code-assistant replica');
  t.same(
    sim.scaleEvents.map((e) => e.reason),
    ['ScaleUpLimit', 'TooManyReplicas', 'Recommended'],
  );
  t.ok(sim.summary.timeOverTargetSeconds > 0, 'the burst outran the pool for a while');
  const live = (await app.inject({ method: 'GET', url: '/debug/plugins/autoscaler/trace' })).json<{ count: number }>();
  t.equal(live.count, 0, 'a simulation leaves the live history and trace alone');
});

t.test('comparing behaviour settings', async (t) => {
  const { app } = await testApp(shippedConfig);
  t.teardown(() => app.close());
  const base = read('simulate-burst.json') as Record<string, unknown>;
  const eager = await app.inject({
    method: 'POST',
    url: '/autoscaler/simulate',
    payload: {
      ...base,
      autoscaling: {
        metrics: [
          { type: 'tokens-in-queue', target: '500' },
          { type: 'ttft-p95', target: '500ms' },
        ],
        behavior: { scaleDown: { stabilizationWindow: '30s' } },
      },
    },
  });
  const sim = eager.json<Simulation>();
  t.ok(sim.summary.scaleDowns >= 1);
  t.ok(
    sim.summary.replicaHours < (read('simulate-burst.output.json') as Simulation).summary.replicaHours,
    'a short scale-down window uses fewer replica-hours',
  );
});

t.test('bad simulations', async (t) => {
  const { app } = await testApp(shippedConfig);
  t.teardown(() => app.close());
  const sim = (payload: unknown) => app.inject({ method: 'POST', url: '/autoscaler/simulate', payload: payload as object });
  const out = await sim({
    pool: { namespace: 'agents', name: 'support-bot' },
    series: [
      { t: 30, metrics: {} },
      { t: 15, metrics: {} },
    ],
  });
  t.equal(out.statusCode, 400);
  t.match(out.json<{ message: string }>().message, /time order/);
  t.equal((await sim({ pool: { namespace: 'agents', name: 'support-bot' }, series: [] })).statusCode, 400, 'an empty series');
  t.equal((await sim({ pool: { namespace: 'agents', name: 'nope' }, series: [{ metrics: {} }] })).statusCode, 404);
  t.equal((await sim({ pool: { namespace: 'agents', name: 'support-bot' }, stepSeconds: 0, series: [{ metrics: {} }] })).statusCode, 400);
});

t.test('times past any date, and metrics the pool does not read: 400 with the reason, never a 500', async (t) => {
  const { app } = await testApp(shippedConfig);
  t.teardown(() => app.close());
  const ref = { namespace: 'agents', name: 'support-bot' };
  const sim = async (payload: Record<string, unknown>): Promise<{ statusCode: number; message: string }> => {
    const res = await app.inject({ method: 'POST', url: '/autoscaler/simulate', payload: { pool: ref, ...payload } });
    return { statusCode: res.statusCode, message: res.json<{ message: string }>().message };
  };
  t.match(await sim({ stepSeconds: 1e300, series: [{ metrics: {} }, { metrics: {} }] }), { statusCode: 400, message: /stepSeconds must be <= 86400/ });
  t.match(await sim({ series: [{ t: 1e300, metrics: {} }] }), { statusCode: 400, message: /t must be <= 315360000/ });
  t.match(await sim({ autoscaling: { behavior: { scaleUp: { periodSeconds: 1e15 } } }, series: [{ metrics: {} }] }), {
    statusCode: 400,
    message: /periodSeconds must be <= 1800/,
  });
  t.match(await sim({ autoscaling: { cooldownPeriod: '999999999999h' }, series: [{ metrics: {} }] }), {
    statusCode: 400,
    message: 'AgentPool agents/support-bot: spec.autoscaling.cooldownPeriod: "999999999999h" is longer than the 24h allowed',
  });
  // Steps of a day over 10,000 points run past ten years even though each field is in range.
  const long = await sim({ stepSeconds: 86_400, series: Array.from({ length: 4000 }, () => ({ metrics: {} })) });
  t.match(long, { statusCode: 400, message: /series\[3651\]\.t \(315446400\) must be in \[0, 315360000\] seconds/ });
  t.match(await sim({ series: [{ metrics: { 'queue-depth': 5 } }, { metrics: { 'queue-dept': 5 } }] }), {
    statusCode: 400,
    message: /^series\[1\]\.metrics: unknown metric "queue-dept"; this pool reads /,
  });
  t.match(await sim({ series: [{ metrics: { 'queue-depth': -5 } }] }), { statusCode: 400, message: /must be >= 0/ });
});
