/**
 * Property-based: over random pools (bounds, metrics, behaviour), metric values from 0 to
 * Number.MAX_VALUE (or missing), replica counts in and out of bounds and `now` going back and forth,
 * every decide reply is valid against the reply schema and desiredReplicas stays within
 * [minReplicas, maxReplicas] (0 only where minReplicas is 0). Fixed seed, bounded runs.
 */
import fc from 'fast-check';
import t from 'tap';
import { Compile } from 'typebox/compile';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { Decision } from '../../src/routes/autoscaler-routes.ts';
import { pool, STATIC_ONLY, T0, testApp } from './helpers.ts';

const checkReply = Compile(Decision);

const METRICS = [
  { type: 'queue-depth', targets: ['1', '10', '250m', '1k'] },
  { type: 'ttft-p95', targets: ['500ms', '2s'] },
] as const;

const duration = fc.constantFrom('0s', '15s', '1m', '5m');
const rules = fc.record(
  {
    stabilizationWindow: duration,
    maxChangePercent: fc.integer({ min: 0, max: 300 }),
    maxChangeAbsolute: fc.integer({ min: 0, max: 10 }),
    periodSeconds: fc.integer({ min: 1, max: 1800 }),
    selectPolicy: fc.constantFrom('Max', 'Min', 'Disabled'),
    tolerance: fc.double({ min: 0, max: 1, noNaN: true }),
  },
  { requiredKeys: [] },
);

const poolSpec = fc
  .record({
    minReplicas: fc.integer({ min: 0, max: 5 }),
    span: fc.integer({ min: 0, max: 40 }),
    metrics: fc.subarray([0, 1], { minLength: 1 }).chain((picked) =>
      fc.tuple(
        ...picked.map((i) =>
          fc.record({
            type: fc.constant(METRICS[i as 0 | 1].type),
            target: fc.constantFrom(...METRICS[i as 0 | 1].targets),
            averagingWindow: fc.option(duration, { nil: undefined }),
          }),
        ),
      ),
    ),
    behavior: fc.record({ scaleUp: rules, scaleDown: rules }, { requiredKeys: [] }),
    cooldownPeriod: fc.option(fc.constantFrom('0s', '30s', '10m'), { nil: undefined }),
  })
  .map(({ minReplicas, span, metrics, behavior, cooldownPeriod }) => ({
    minReplicas,
    maxReplicas: Math.max(1, minReplicas + span),
    autoscaling: {
      metrics: metrics.map(({ type, target, averagingWindow }) => (averagingWindow === undefined ? { type, target } : { type, target, averagingWindow })),
      behavior,
      ...(cooldownPeriod !== undefined ? { cooldownPeriod } : {}),
    },
  }));

const value = fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true }), fc.constant(0));
const step = fc.record({
  seconds: fc.integer({ min: -120, max: 600 }),
  // undefined: apply the previous decision, as an actuator would.
  currentReplicas: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  values: fc.tuple(fc.option(value, { nil: undefined }), fc.option(value, { nil: undefined })),
  dryRun: fc.boolean(),
});

t.test('every reply is valid and within the pool bounds', async (t) => {
  const { app } = await testApp(STATIC_ONLY);
  t.teardown(() => app.close());
  let runs = 0;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(poolSpec, fc.array(step, { minLength: 1, maxLength: 8 }), async (spec, steps) => {
      const p: AgentPool = pool(`prop-${runs++}`, spec);
      let now = T0;
      let current = spec.minReplicas;
      for (const s of steps) {
        now += s.seconds * 1000;
        current = s.currentReplicas ?? current;
        const metrics: Record<string, number> = {};
        spec.autoscaling.metrics.forEach((m, i) => {
          const v = s.values[i];
          if (v !== undefined) metrics[m.type] = v;
        });
        const res = await app.inject({
          method: 'POST',
          url: '/autoscaler/decide',
          payload: { pool: p, currentReplicas: current, metrics, now: new Date(now).toISOString(), dryRun: s.dryRun },
        });
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${res.body}`);
        const reply: unknown = res.json();
        if (!checkReply.Check(reply)) throw new Error(`reply off its schema: ${JSON.stringify([...checkReply.Errors(reply)].slice(0, 3))}`);
        const { desiredReplicas } = reply;
        if (!(desiredReplicas >= spec.minReplicas && desiredReplicas <= spec.maxReplicas))
          throw new Error(`desiredReplicas ${desiredReplicas} outside [${spec.minReplicas}, ${spec.maxReplicas}]`);
        current = desiredReplicas;
      }
    }),
    { seed: 20261202, numRuns: 60 },
  );
  t.equal(runs, 60, 'sixty random pools, each through up to eight decisions');
  t.comment(`property run: ${Math.round(performance.now() - started)} ms`);
});
