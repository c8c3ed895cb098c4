/**
 * Kubernetes' own HPA test cases (pkg/controller/podautoscaler: replica_calculator_test.go and
 * horizontal_test.go), reproduced with their numbers. Each test names the upstream case. HPA's
 * External metrics map onto ours: a Value target is a level metric, an AverageValue target an
 * additive one; milli-values are used as they are (only ratios matter). The scale-up ramp under
 * HPA's default behaviour is reproduced through the decision endpoint: a scale this service decided
 * counts from that decision, as HPA stamps its event when it rescales; one it did not, from when it
 * is first seen.
 */
import t from 'tap';
import type { MetricReport } from '../../src/autoscaling/decision.ts';
import { runPipeline, type PipelineInput } from '../../src/autoscaling/decision-pipeline.ts';
import type { MetricKind } from '../../src/autoscaling/metric-kinds.ts';
import { scaleDownLimit, scaleUpLimit, type ScaleEvent } from '../../src/autoscaling/rate-limits.ts';
import { proposeReplicas } from '../../src/autoscaling/replica-calculator.ts';
import {
  defaultScaleDownPolicies,
  defaultScaleUpPolicies,
  type DirectionRules,
  type ResolvedBehavior,
  type ScalingPolicy,
} from '../../src/autoscaling/scaling-rules.ts';
import { pool, STATIC_ONLY, T0, testApp } from './helpers.ts';

const NOW = 1_000_000_000;

function rules(policies: ScalingPolicy[], windowMs = 0, selectPolicy: DirectionRules['selectPolicy'] = 'Max'): DirectionRules {
  return { stabilizationWindowMs: windowMs, selectPolicy, policies, tolerance: 0.1 };
}

/** generateScalingRules(pods, podsPeriod, percent, percentPeriod, window) of horizontal_test.go. */
function generated(pods: number, podsPeriod: number, percent: number, percentPeriod: number, windowSeconds: number): DirectionRules {
  const policies: ScalingPolicy[] = [];
  if (pods !== 0) policies.push({ type: 'Pods', value: pods, periodSeconds: podsPeriod });
  if (percent !== 0) policies.push({ type: 'Percent', value: percent, periodSeconds: percentPeriod });
  return rules(policies, windowSeconds * 1000);
}

/** generateEventsUniformDistribution: events at the centres of equal segments of the last `period` seconds. */
function uniformEvents(changes: number[], periodSeconds: number, sign: 1 | -1): ScaleEvent[] {
  const segment = periodSeconds / changes.length;
  return changes.map((c, i) => ({ time: NOW - (periodSeconds - segment * (i + 1) + segment / 2) * 1000, change: sign * c }));
}

const HPA_DEFAULT: ResolvedBehavior = {
  scaleUp: rules(defaultScaleUpPolicies(), 0),
  scaleDown: rules(defaultScaleDownPolicies(), 300_000),
  cooldownMs: 0,
};

function metric(kind: MetricKind, value: number, target: number, current: number, ready?: number, type = 'qps'): MetricReport {
  const p = proposeReplicas(kind, value, target, current, ready);
  return { type, kind, target: String(target), targetValue: target, value, status: 'ok', source: 'request', ratio: p.ratio, replicas: p.replicas };
}

function invalid(type: string): MetricReport {
  return { type, kind: 'additive', target: '1', targetValue: 1, value: null, status: 'missing', source: null, ratio: null, replicas: null };
}

/** A decision with nothing but the metrics in the way: no history, wide bounds and rates. */
function decide(current: number, metrics: MetricReport[], extra: Partial<PipelineInput> = {}) {
  const known = metrics.filter((m) => m.replicas !== null).map((m) => m.replicas as number);
  return runPipeline({
    now: NOW,
    current,
    minReplicas: 0,
    maxReplicas: 1_000_000,
    recommended: known.length > 0 ? Math.max(...known) : null,
    metrics,
    behavior: {
      scaleUp: rules([{ type: 'Percent', value: 100_000, periodSeconds: 15 }]),
      scaleDown: rules([{ type: 'Percent', value: 100, periodSeconds: 15 }]),
      cooldownMs: 0,
    },
    history: [],
    events: [],
    lastScaleTime: null,
    ...extra,
  });
}

t.test('replica_calculator_test.go: External metrics', async (t) => {
  const cases: [string, MetricKind, number, number, number, number | undefined, number][] = [
    // name, kind, usage, target, current, ready, expected
    ['TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods', 'level', 8600, 4400, 3, 1, 2],
    ['TestReplicaCalcScaleDownCMExternal', 'level', 8600, 14334, 5, undefined, 3],
    ['TestReplicaCalcToleranceCMExternal', 'level', 8600, 8888, 3, undefined, 3],
    ['TestReplicaCalcScaleUpPerPodCMExternal', 'additive', 8600, 2150, 3, undefined, 4],
    ['TestReplicaCalcScaleDownPerPodCMExternal', 'additive', 8600, 2867, 5, undefined, 3],
    ['TestReplicaCalcTolerancePerPodCMExternal', 'additive', 8600, 2900, 3, undefined, 3],
  ];
  for (const [name, kind, usage, target, current, ready, expected] of cases) {
    t.equal(decide(current, [metric(kind, usage, target, current, ready)]).desired, expected, name);
  }
});

t.test('horizontal_test.go: External metric controller cases', async (t) => {
  // min 2, max 6, recommendations: [] (no initial-size record).
  const bounded = { minReplicas: 2, maxReplicas: 6 };
  t.equal(decide(5, [metric('level', 8600, 14400, 5)], bounded).desired, 3, 'TestScaleDownCMExternal');
  t.equal(decide(5, [metric('level', 0, 14400, 5)], { minReplicas: 0, maxReplicas: 6 }).desired, 0, 'TestScaleDownToZeroCMExternal');
  t.equal(decide(5, [metric('additive', 8600, 3000, 5)], bounded).desired, 3, 'TestScaleDownPerPodCMExternal');
});

t.test('horizontal_test.go: invalid and missing metrics', async (t) => {
  const up = decide(3, [metric('additive', 12, 3, 3), invalid('cheddar-cheese')], { minReplicas: 2, maxReplicas: 6 });
  t.equal(up.desired, 4, 'TestScaleUpOneMetricInvalid: scale up on what is known');
  const none = decide(3, [invalid('cheddar-cheese'), invalid('qps')], { minReplicas: 2, maxReplicas: 6 });
  t.equal(none.desired, 3, 'TestScaleUpBothMetricsEmpty: hold when nothing is known');
  t.equal(none.reason, 'MetricsUnavailable');
  const down = decide(5, [metric('additive', 9, 3, 5), invalid('cheddar-cheese')], { minReplicas: 2, maxReplicas: 6 });
  t.equal(down.desired, 5, 'TestNoScaleDownOneMetricInvalid: never scale down on partial data');
  t.equal(down.reason, 'MetricsUnavailable');
  t.equal(down.record, null, 'nothing is recorded while holding');
});

t.test('horizontal_test.go: TestScaleDownStabilizeInitialSize', async (t) => {
  // recommendations: nil → the controller records the current size first.
  const r = decide(5, [metric('additive', 9, 3, 5)], { minReplicas: 2, maxReplicas: 6, behavior: HPA_DEFAULT, history: [{ time: NOW, replicas: 5 }] });
  t.equal(r.desired, 5);
  t.equal(r.reason, 'ScaleDownStabilized');
});

t.test('horizontal_test.go: TestScaleUpRCImmediately and TestScaleDownRCImmediately', async (t) => {
  t.equal(decide(1, [metric('additive', 0, 1, 1)], { minReplicas: 2, maxReplicas: 6 }).desired, 2, 'TestScaleUpRCImmediately');
  const r = decide(6, [metric('additive', 60, 1, 6)], { minReplicas: 2, maxReplicas: 5 });
  t.equal(r.desired, 5, 'TestScaleDownRCImmediately');
  t.equal(r.reason, 'TooManyReplicas');
});

t.test('horizontal_test.go: TestCalculateScaleUpLimitWithScalingRules / TestCalculateScaleDownLimitWithBehaviors', async (t) => {
  const policies: ScalingPolicy[] = [
    { type: 'Pods', value: 2, periodSeconds: 60 },
    { type: 'Percent', value: 50, periodSeconds: 60 },
  ];
  t.equal(scaleUpLimit(1, [], rules(policies, 300_000, 'Min'), NOW), 2);
  t.equal(scaleDownLimit(5, [], rules(policies, 300_000, 'Min'), NOW), 3);
});

t.test('horizontal_test.go: TestScalingWithRules', async (t) => {
  interface Case {
    name: string;
    min: number;
    max: number;
    current: number;
    desired: number;
    up?: DirectionRules;
    down?: DirectionRules;
    upEvents?: ScaleEvent[];
    downEvents?: ScaleEvent[];
    expected: number;
    condition: string;
  }
  const cases: Case[] = [
    { name: 'prenormalized desired replicas within range', current: 5, desired: 7, min: 3, max: 8, expected: 7, condition: 'DesiredWithinRange' },
    { name: 'prenormalized desired replicas < minReplicas', current: 3, desired: 1, min: 2, max: 8, expected: 2, condition: 'TooFewReplicas' },
    {
      name: 'prenormalized desired replicas within range when minReplicas is 0',
      current: 1,
      desired: 0,
      min: 0,
      max: 10,
      expected: 0,
      condition: 'DesiredWithinRange',
    },
    {
      name: 'maxReplicas is the limit because maxReplicas < scaleUpLimit',
      current: 20,
      desired: 1000,
      min: 1,
      max: 10,
      expected: 10,
      condition: 'TooManyReplicas',
    },
    {
      name: 'desired replica count is more than the maximum replica count',
      current: 100,
      desired: 1000,
      min: 100,
      max: 150,
      expected: 150,
      condition: 'TooManyReplicas',
    },
    {
      name: 'scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies',
      current: 3,
      desired: 1000,
      min: 1,
      max: 2000,
      up: generated(0, 0, 1, 60, 0),
      expected: 4,
      condition: 'ScaleUpLimit',
    },
    { name: 'scaleUp with default behavior', current: 10, desired: 50, min: 1, max: 1000, expected: 20, condition: 'ScaleUpLimit' },
    {
      name: 'scaleUp with pods policy larger than percent policy',
      current: 10,
      desired: 500,
      min: 1,
      max: 1000,
      up: generated(100, 60, 100, 60, 0),
      expected: 110,
      condition: 'ScaleUpLimit',
    },
    {
      name: 'scaleUp with percent policy larger than pods policy',
      current: 10,
      desired: 500,
      min: 1,
      max: 1000,
      up: generated(2, 60, 100, 60, 0),
      expected: 20,
      condition: 'ScaleUpLimit',
    },
    {
      name: 'scaleUp with spec MaxReplicas limitation with large pod policy',
      current: 10,
      desired: 50,
      min: 1,
      max: 1000,
      up: generated(100, 60, 0, 0, 0),
      expected: 50,
      condition: 'DesiredWithinRange',
    },
    {
      name: 'scaleUp with pod policy limitation',
      current: 10,
      desired: 50,
      min: 1,
      max: 1000,
      up: generated(30, 60, 0, 0, 0),
      expected: 40,
      condition: 'ScaleUpLimit',
    },
    {
      name: 'scaleUp with percent policy limitation',
      current: 10,
      desired: 50,
      min: 1,
      max: 1000,
      up: generated(0, 0, 200, 60, 0),
      expected: 30,
      condition: 'ScaleUpLimit',
    },
    {
      name: 'scaleDown with percent policy larger than pod policy',
      current: 100,
      desired: 2,
      min: 1,
      max: 1000,
      down: generated(20, 60, 1, 60, 300),
      expected: 80,
      condition: 'ScaleDownLimit',
    },
    {
      name: 'scaleDown with pod policy larger than percent policy',
      current: 100,
      desired: 2,
      min: 1,
      max: 1000,
      down: generated(2, 60, 1, 60, 300),
      expected: 98,
      condition: 'ScaleDownLimit',
    },
    {
      name: 'scaleDown with spec MinReplicas limitation with large percent policy',
      current: 10,
      desired: 2,
      min: 5,
      max: 1000,
      down: generated(0, 0, 100, 60, 300),
      expected: 5,
      condition: 'TooFewReplicas',
    },
    {
      name: 'scaleDown with pod policy limitation',
      current: 10,
      desired: 2,
      min: 1,
      max: 1000,
      down: generated(5, 60, 0, 0, 300),
      expected: 5,
      condition: 'ScaleDownLimit',
    },
    {
      name: 'scaleDown with percent policy limitation',
      current: 10,
      desired: 5,
      min: 1,
      max: 1000,
      down: generated(0, 0, 50, 60, 300),
      expected: 5,
      condition: 'DesiredWithinRange',
    },
    {
      name: 'scaleUp with spec MaxReplicas limitation with large pod policy and events',
      current: 100,
      desired: 500,
      min: 1,
      max: 200,
      up: generated(300, 60, 0, 0, 0),
      upEvents: uniformEvents([1, 5, 9], 120, 1),
      expected: 200,
      condition: 'TooManyReplicas',
    },
    {
      name: 'scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events',
      current: 100,
      desired: 500,
      min: 1,
      max: 1000,
      up: generated(5, 120, 0, 0, 0),
      upEvents: uniformEvents([1, 5, 9], 120, 1),
      expected: 100,
      condition: 'ScaleUpLimit',
    },
    {
      name: 'scaleUp with pod policy and previous scale up events',
      current: 100,
      desired: 500,
      min: 1,
      max: 1000,
      up: generated(150, 120, 0, 0, 0),
      upEvents: uniformEvents([1, 5, 9], 120, 1),
      expected: 235,
      condition: 'ScaleUpLimit',
    },
    {
      name: 'scaleUp with percent policy and previous scale up events',
      current: 100,
      desired: 500,
      min: 1,
      max: 1000,
      up: generated(0, 0, 200, 120, 0),
      upEvents: uniformEvents([1, 5, 9], 120, 1),
      expected: 255,
      condition: 'ScaleUpLimit',
    },
    {
      name: 'scaleUp with percent policy and previous scale up and down events',
      current: 6,
      desired: 24,
      min: 1,
      max: 1000,
      up: generated(0, 0, 300, 300, 0),
      upEvents: uniformEvents([4], 120, 1),
      downEvents: uniformEvents([2], 120, -1),
      expected: 16,
      condition: 'ScaleUpLimit',
    },
    {
      name: 'scaleDown with default policy and previous events',
      current: 10,
      desired: 5,
      min: 1,
      max: 1000,
      downEvents: uniformEvents([1, 5, 9], 120, -1),
      expected: 5,
      condition: 'DesiredWithinRange',
    },
    {
      name: 'scaleDown with pod policy limitation and previous events',
      current: 100,
      desired: 2,
      min: 1,
      max: 1000,
      down: generated(5, 120, 0, 0, 300),
      downEvents: uniformEvents([1, 5, 9], 120, -1),
      expected: 100,
      condition: 'ScaleDownLimit',
    },
    {
      name: 'scaleDown with percent policy limitation and previous events',
      current: 100,
      desired: 0,
      min: 1,
      max: 1000,
      down: generated(0, 0, 50, 120, 300),
      downEvents: uniformEvents([2, 4, 6], 120, -1),
      expected: 56,
      condition: 'ScaleDownLimit',
    },
    {
      name: 'scaleDown with percent policy and previous scale up and down events',
      current: 10,
      desired: 1,
      min: 1,
      max: 1000,
      down: generated(0, 0, 50, 180, 0),
      upEvents: uniformEvents([2], 120, 1),
      downEvents: uniformEvents([4], 120, -1),
      expected: 6,
      condition: 'ScaleDownLimit',
    },
    {
      name: 'scaleDown with previous events preventing further scale down',
      current: 100,
      desired: 0,
      min: 1,
      max: 1000,
      down: generated(0, 0, 10, 120, 300),
      downEvents: uniformEvents([10, 10, 10], 120, -1),
      expected: 100,
      condition: 'ScaleDownLimit',
    },
    {
      name: 'scaleDown with with previous events still allowing more scale down',
      current: 10,
      desired: 5,
      min: 1,
      max: 1000,
      down: generated(0, 0, 1000, 120, 300),
      downEvents: uniformEvents([10, 10, 10], 120, -1),
      expected: 5,
      condition: 'DesiredWithinRange',
    },
    {
      name: "check that events were marked 'outdated' for two different policies in the behavior for up",
      current: 100,
      desired: 200,
      min: 1,
      max: 1000,
      up: generated(1000, 30, 100, 60, 0),
      upEvents: uniformEvents([8, 12, 9, 11], 120, 1),
      expected: 200,
      condition: 'DesiredWithinRange',
    },
  ];
  for (const c of cases) {
    // convertDesiredReplicasWithBehaviorRate alone: no stabilization history, no tolerance.
    const r = runPipeline({
      now: NOW,
      current: c.current,
      minReplicas: c.min,
      maxReplicas: c.max,
      recommended: c.desired,
      metrics: [],
      behavior: {
        scaleUp: { ...(c.up ?? HPA_DEFAULT.scaleUp), stabilizationWindowMs: 0, tolerance: 0 },
        scaleDown: { ...(c.down ?? HPA_DEFAULT.scaleDown), stabilizationWindowMs: 0, tolerance: 0 },
        cooldownMs: 0,
      },
      history: [],
      events: [...(c.upEvents ?? []), ...(c.downEvents ?? [])],
      lastScaleTime: null,
    });
    t.equal(r.desired, c.expected, `${c.name}: replicas`);
    // HPA names the binding limit: the last of the bounds and rate stages that changed the count.
    const limiting = r.stages.filter((s) => (s.stage === 'min/max' || s.stage === 'rate-limits') && s.output !== s.input).at(-1);
    t.equal(limiting?.reason ?? 'DesiredWithinRange', c.condition, `${c.name}: condition`);
  }
});

t.test('scale from zero: GetExternalPerPodMetricReplicas at 0 replicas, then the scale-up limit', async (t) => {
  // HPA: usageRatio = 95 / (10 × 0) = +Inf, outside tolerance, so replicas = ceil(95 / 10) = 10;
  // calculateScaleUpLimitWithScalingRules from 0 under the default policies: max(0 + 4, ceil(0 × 2)) = 4.
  const m = metric('additive', 95, 10, 0);
  t.same({ ratio: m.ratio, replicas: m.replicas }, { ratio: null, replicas: 10 }, 'no ratio at 0 replicas; the metric alone wants 10');
  const r = decide(0, [{ ...m, status: 'no-ratio' }], { minReplicas: 0, maxReplicas: 100, behavior: HPA_DEFAULT });
  t.equal(r.desired, 4);
  t.equal(r.reason, 'ScaleUpLimit');
  t.equal(r.stages.find((s) => s.stage === 'tolerance')?.reason, 'Skipped', 'no tolerance band from zero');
  // 0 / (10 × 0) is NaN in HPA: |1 − NaN| > tolerance is false, so the count stays 0; ceil(0 / 10) = 0 agrees.
  const idle = metric('additive', 0, 10, 0);
  t.same({ ratio: idle.ratio, replicas: idle.replicas }, { ratio: null, replicas: 0 });
  t.equal(decide(0, [{ ...idle, status: 'no-ratio' }], { minReplicas: 0, maxReplicas: 100, behavior: HPA_DEFAULT }).desired, 0);
  // A level metric from zero is ceil(ratio) (getUsageRatioReplicaCount): 0.3 s against 0.5 s asks for 1.
  t.same(proposeReplicas('level', 0.3, 0.5, 0), { ratio: 0.6, replicas: 1 });
});

t.test('a ratio that overflows is null, and the metric still asks for the most replicas there are', async (t) => {
  t.same(proposeReplicas('level', Number.MAX_VALUE, 0.001, 3), { ratio: null, replicas: 2_147_483_647 });
  t.same(proposeReplicas('additive', Number.MAX_VALUE, 0.001, 3), { ratio: null, replicas: 2_147_483_647 });
});

t.test('horizontal_test.go: TestZeroReplicas — where we differ', async (t) => {
  // Upstream: min 3, max 5, spec replicas 0 → "scaling is disabled", desired 0. An AgentPool's
  // minReplicas is the capacity it promises (and KEDA idles pools at 0): we answer the floor.
  const r = decide(0, [metric('additive', 0, 1, 0)], { minReplicas: 3, maxReplicas: 5, behavior: HPA_DEFAULT });
  t.equal(r.desired, 3);
  t.equal(r.reason, 'TooFewReplicas');
});

interface RampReply {
  desiredReplicas: number;
  reason: string;
}

const heavy = pool('ramp', { minReplicas: 1, maxReplicas: 1000, autoscaling: { metrics: [{ type: 'queue-depth', target: '10' }] } });

/** Decides every `cadenceSeconds` from 2 replicas, each decision applied before the next; the replies' counts. */
async function ramp(cadenceSeconds: number, steps: number): Promise<number[]> {
  const { app } = await testApp(STATIC_ONLY);
  const seen: number[] = [];
  let current = 2;
  for (let i = 0; i < steps; i++) {
    const now = new Date(T0 + i * cadenceSeconds * 1000).toISOString();
    const res = await app.inject({
      method: 'POST',
      url: '/autoscaler/decide',
      payload: { pool: heavy, currentReplicas: current, metrics: { 'queue-depth': 100_000 }, now },
    });
    if (res.statusCode !== 200) throw new Error(`decide answered ${res.statusCode}: ${res.body}`);
    current = res.json<RampReply>().desiredReplicas;
    seen.push(current);
  }
  await app.close();
  return seen;
}

t.test('2 replicas under heavy load: 6, 12, 24, 48, 96 at a 15 s and a 16 s cadence, as HPA', async (t) => {
  t.same(await ramp(15, 5), [6, 12, 24, 48, 96], 'every 15 s');
  t.same(await ramp(16, 5), [6, 12, 24, 48, 96], 'every 16 s: the +4 of t=0 is out of the period at t=16');
  t.same(await ramp(10, 4), [6, 6, 12, 12], 'every 10 s the period still holds the last scale every other time');
});

t.test('a change the service did not decide counts from when it is seen', async (t) => {
  const { app } = await testApp(STATIC_ONLY);
  t.teardown(() => app.close());
  const decide = async (currentReplicas: number, queue: number, seconds: number): Promise<RampReply> =>
    (
      await app.inject({
        method: 'POST',
        url: '/autoscaler/decide',
        payload: { pool: heavy, currentReplicas, metrics: { 'queue-depth': queue }, now: new Date(T0 + seconds * 1000).toISOString() },
      })
    ).json<RampReply>();
  t.equal((await decide(2, 20, 0)).desiredReplicas, 2, 'nothing to do at t=0');
  // Someone else scaled 2 → 6: stamped at t=16, so at t=16 the period starts from 2 again: max(2 + 4, 2 × 2) = 6.
  const after = await decide(6, 100_000, 16);
  t.same([after.desiredReplicas, after.reason], [6, 'ScaleUpLimit']);
  t.equal((await decide(6, 100_000, 40)).desiredReplicas, 12, 'the +4 of t=16 is out of the period');
  // Asked for 12, got 9: not this decision's count, so the +3 counts from t=56, when it is seen, and
  // the period starts from 6: max(6 + 4, 6 × 2) = 12 (stamped at the decision, t=40, it would be 18).
  const partial = await decide(9, 100_000, 56);
  t.same([partial.desiredReplicas, partial.reason], [12, 'ScaleUpLimit']);
});
