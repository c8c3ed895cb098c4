/**
 * Kubernetes' own HPA test cases (pkg/controller/podautoscaler: replica_calculator_test.go and
 * horizontal_test.go), reproduced with their numbers. Each test names the upstream case. HPA's
 * External metrics map onto ours: a Value target is a level metric, an AverageValue target an
 * additive one; milli-values are used as they are (only ratios matter).
 */
import t from 'tap';
import type { MetricReport } from '../../src/autoscaling/decision.ts';
import { runPipeline, type PipelineInput } from '../../src/autoscaling/decision-pipeline.ts';
import type { MetricKind } from '../../src/autoscaling/metric-kinds.ts';
import { scaleDownLimit, scaleUpLimit, type ScaleEvent } from '../../src/autoscaling/rate-limits.ts';
import { proposeReplicas } from '../../src/autoscaling/replica-calculator.ts';
import { defaultScaleDownPolicies, defaultScaleUpPolicies, type DirectionRules, type ResolvedBehavior, type ScalingPolicy } from '../../src/autoscaling/scaling-rules.ts';

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
    behavior: { scaleUp: rules([{ type: 'Percent', value: 100_000, periodSeconds: 15 }]), scaleDown: rules([{ type: 'Percent', value: 100, periodSeconds: 15 }]), cooldownMs: 0 },
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
    { name: 'prenormalized desired replicas within range when minReplicas is 0', current: 1, desired: 0, min: 0, max: 10, expected: 0, condition: 'DesiredWithinRange' },
    { name: 'maxReplicas is the limit because maxReplicas < scaleUpLimit', current: 20, desired: 1000, min: 1, max: 10, expected: 10, condition: 'TooManyReplicas' },
    { name: 'desired replica count is more than the maximum replica count', current: 100, desired: 1000, min: 100, max: 150, expected: 150, condition: 'TooManyReplicas' },
    { name: 'scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies', current: 3, desired: 1000, min: 1, max: 2000, up: generated(0, 0, 1, 60, 0), expected: 4, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with default behavior', current: 10, desired: 50, min: 1, max: 1000, expected: 20, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with pods policy larger than percent policy', current: 10, desired: 500, min: 1, max: 1000, up: generated(100, 60, 100, 60, 0), expected: 110, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy larger than pods policy', current: 10, desired: 500, min: 1, max: 1000, up: generated(2, 60, 100, 60, 0), expected: 20, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with spec MaxReplicas limitation with large pod policy', current: 10, desired: 50, min: 1, max: 1000, up: generated(100, 60, 0, 0, 0), expected: 50, condition: 'DesiredWithinRange' },
    { name: 'scaleUp with pod policy limitation', current: 10, desired: 50, min: 1, max: 1000, up: generated(30, 60, 0, 0, 0), expected: 40, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy limitation', current: 10, desired: 50, min: 1, max: 1000, up: generated(0, 0, 200, 60, 0), expected: 30, condition: 'ScaleUpLimit' },
    { name: 'scaleDown with percent policy larger than pod policy', current: 100, desired: 2, min: 1, max: 1000, down: generated(20, 60, 1, 60, 300), expected: 80, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with pod policy larger than percent policy', current: 100, desired: 2, min: 1, max: 1000, down: generated(2, 60, 1, 60, 300), expected: 98, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with spec MinReplicas limitation with large percent policy', current: 10, desired: 2, min: 5, max: 1000, down: generated(0, 0, 100, 60, 300), expected: 5, condition: 'TooFewReplicas' },
    { name: 'scaleDown with pod policy limitation', current: 10, desired: 2, min: 1, max: 1000, down: generated(5, 60, 0, 0, 300), expected: 5, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with percent policy limitation', current: 10, desired: 5, min: 1, max: 1000, down: generated(0, 0, 50, 60, 300), expected: 5, condition: 'DesiredWithinRange' },
    { name: 'scaleUp with spec MaxReplicas limitation with large pod policy and events', current: 100, desired: 500, min: 1, max: 200, up: generated(300, 60, 0, 0, 0), upEvents: uniformEvents([1, 5, 9], 120, 1), expected: 200, condition: 'TooManyReplicas' },
    { name: 'scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events', current: 100, desired: 500, min: 1, max: 1000, up: generated(5, 120, 0, 0, 0), upEvents: uniformEvents([1, 5, 9], 120, 1), expected: 100, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with pod policy and previous scale up events', current: 100, desired: 500, min: 1, max: 1000, up: generated(150, 120, 0, 0, 0), upEvents: uniformEvents([1, 5, 9], 120, 1), expected: 235, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy and previous scale up events', current: 100, desired: 500, min: 1, max: 1000, up: generated(0, 0, 200, 120, 0), upEvents: uniformEvents([1, 5, 9], 120, 1), expected: 255, condition: 'ScaleUpLimit' },
    { name: 'scaleUp with percent policy and previous scale up and down events', current: 6, desired: 24, min: 1, max: 1000, up: generated(0, 0, 300, 300, 0), upEvents: uniformEvents([4], 120, 1), downEvents: uniformEvents([2], 120, -1), expected: 16, condition: 'ScaleUpLimit' },
    { name: 'scaleDown with default policy and previous events', current: 10, desired: 5, min: 1, max: 1000, downEvents: uniformEvents([1, 5, 9], 120, -1), expected: 5, condition: 'DesiredWithinRange' },
    { name: 'scaleDown with pod policy limitation and previous events', current: 100, desired: 2, min: 1, max: 1000, down: generated(5, 120, 0, 0, 300), downEvents: uniformEvents([1, 5, 9], 120, -1), expected: 100, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with percent policy limitation and previous events', current: 100, desired: 0, min: 1, max: 1000, down: generated(0, 0, 50, 120, 300), downEvents: uniformEvents([2, 4, 6], 120, -1), expected: 56, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with percent policy and previous scale up and down events', current: 10, desired: 1, min: 1, max: 1000, down: generated(0, 0, 50, 180, 0), upEvents: uniformEvents([2], 120, 1), downEvents: uniformEvents([4], 120, -1), expected: 6, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with previous events preventing further scale down', current: 100, desired: 0, min: 1, max: 1000, down: generated(0, 0, 10, 120, 300), downEvents: uniformEvents([10, 10, 10], 120, -1), expected: 100, condition: 'ScaleDownLimit' },
    { name: 'scaleDown with with previous events still allowing more scale down', current: 10, desired: 5, min: 1, max: 1000, down: generated(0, 0, 1000, 120, 300), downEvents: uniformEvents([10, 10, 10], 120, -1), expected: 5, condition: 'DesiredWithinRange' },
    { name: "check that events were marked 'outdated' for two different policies in the behavior for up", current: 100, desired: 200, min: 1, max: 1000, up: generated(1000, 30, 100, 60, 0), upEvents: uniformEvents([8, 12, 9, 11], 120, 1), expected: 200, condition: 'DesiredWithinRange' },
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
      behavior: { scaleUp: { ...(c.up ?? HPA_DEFAULT.scaleUp), stabilizationWindowMs: 0, tolerance: 0 }, scaleDown: { ...(c.down ?? HPA_DEFAULT.scaleDown), stabilizationWindowMs: 0, tolerance: 0 }, cooldownMs: 0 },
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
