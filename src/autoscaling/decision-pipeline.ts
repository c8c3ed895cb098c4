/**
 * The stages every recommendation goes through, in order: raw → tolerance → min/max → stabilization
 * → rate limits → cooldown. Pure: the caller supplies the history and records what comes out. The
 * maths are HPA's (normalizeDesiredReplicasWithBehaviors); see the README for where we differ.
 */
import { isFresh, isKnown, type MetricReport, type StageReason, type StageReport } from './decision.ts';
import { scaleDownLimit, scaleUpLimit, type ScaleEvent } from './rate-limits.ts';
import { isWithinTolerance } from './replica-calculator.ts';
import type { ResolvedBehavior } from './scaling-rules.ts';
import { stabilize, type Recommendation } from './stabilization.ts';

export interface PipelineInput {
  readonly now: number;
  readonly current: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** The autoscaler chain's combined recommendation; null when no plugin answered. */
  readonly recommended: number | null;
  /** The pool's metrics, analysed (HPA's missing-metrics rule and tolerance read them). */
  readonly metrics: readonly MetricReport[];
  readonly behavior: ResolvedBehavior;
  readonly history: readonly Recommendation[];
  readonly events: readonly ScaleEvent[];
  readonly lastScaleTime: number | null;
}

export interface PipelineResult {
  readonly desired: number;
  readonly reason: StageReason;
  readonly message: string;
  readonly stages: StageReport[];
  /** The recommendation to add to the history; null when none is recorded (metrics unavailable…). */
  readonly record: number | null;
  readonly nextScaleUpAt: number | null;
  readonly nextScaleDownAt: number | null;
}

/** HPA's rule (computeReplicasForMetrics): hold when nothing is known, never scale down on partial data. */
function rawStage(i: PipelineInput): StageReport {
  const { current: c, recommended: r, metrics } = i;
  const unavailable = metrics.filter((m) => !isFresh(m));
  const names = unavailable.map((m) => `${m.type} (${m.status}${m.reason !== undefined ? `: ${m.reason}` : ''})`).join(', ');
  if (metrics.length > 0 && !metrics.some(isKnown)) {
    return { stage: 'raw', input: c, output: c, reason: 'MetricsUnavailable', message: `no metric could be read: ${names}; holding at ${c}` };
  }
  if (r === null)
    return { stage: 'raw', input: c, output: c, reason: 'NoRecommendation', message: `no autoscaler plugin recommended anything; holding at ${c}` };
  if (unavailable.length > 0 && r < c) {
    return { stage: 'raw', input: c, output: c, reason: 'MetricsUnavailable', message: `would scale down to ${r} on partial data; not without ${names}` };
  }
  return { stage: 'raw', input: c, output: r, reason: 'Recommended', message: `the autoscaler chain recommends ${r}` };
}

/**
 * The band is judged on the metric that asks for the recommendation (the highest ratio among those
 * asking for exactly that many), which gives HPA's per-metric result; a count no metric explains (a
 * custom plugin's) is judged on recommended / current.
 */
function toleranceStage(i: PipelineInput, input: number): StageReport {
  const c = i.current;
  const t = { scaleUp: i.behavior.scaleUp.tolerance, scaleDown: i.behavior.scaleDown.tolerance };
  if (c === 0) return { stage: 'tolerance', input, output: input, reason: 'Skipped', message: 'scaling from zero: no tolerance band (as HPA)' };
  const drivers = i.metrics.filter((m) => isKnown(m) && m.replicas === input && m.ratio !== null);
  const driver = drivers.reduce<MetricReport | undefined>(
    (best, m) => (best === undefined || (m.ratio as number) > (best.ratio as number) ? m : best),
    undefined,
  );
  const ratio = driver?.ratio ?? input / c;
  const basis = driver !== undefined ? `${driver.type} ratio ${round(ratio)}` : `ratio ${input}/${c} = ${round(ratio)}`;
  const band = `[${round(1 - t.scaleDown)}, ${round(1 + t.scaleUp)}]`;
  if (isWithinTolerance(ratio, t)) return { stage: 'tolerance', input, output: c, reason: 'WithinTolerance', message: `${basis} is within ${band}: keep ${c}` };
  return { stage: 'tolerance', input, output: input, reason: 'OutsideTolerance', message: `${basis} is outside ${band}` };
}

function boundsStage(i: PipelineInput, input: number): StageReport & { forced: boolean } {
  const { current: c, minReplicas: min, maxReplicas: max } = i;
  // As HPA: a pool already outside its bounds goes straight to the bound.
  if (c > max) return { stage: 'min/max', input, output: max, reason: 'TooManyReplicas', message: `current ${c} is above maxReplicas ${max}`, forced: true };
  if (c < min) return { stage: 'min/max', input, output: min, reason: 'TooFewReplicas', message: `current ${c} is below minReplicas ${min}`, forced: true };
  if (input > max)
    return { stage: 'min/max', input, output: max, reason: 'TooManyReplicas', message: `${input} is more than maxReplicas ${max}`, forced: false };
  if (input < min)
    return { stage: 'min/max', input, output: min, reason: 'TooFewReplicas', message: `${input} is less than minReplicas ${min}`, forced: false };
  return { stage: 'min/max', input, output: input, reason: 'DesiredWithinRange', message: `within [${min}, ${max}]`, forced: false };
}

function skipped(stage: StageReport['stage'], value: number, message: string): StageReport {
  return { stage, input: value, output: value, reason: 'Skipped', message };
}

function rateStage(i: PipelineInput, input: number): StageReport {
  const { current: c, events, now, behavior } = i;
  if (input > c) {
    const limit = scaleUpLimit(c, events, behavior.scaleUp, now);
    if (input > limit) {
      const why =
        behavior.scaleUp.selectPolicy === 'Disabled' ? 'scaling up is disabled (selectPolicy: Disabled)' : `scale-up policies allow at most ${limit} now`;
      return { stage: 'rate-limits', input, output: limit, reason: 'ScaleUpLimit', message: why };
    }
  } else if (input < c) {
    const limit = scaleDownLimit(c, events, behavior.scaleDown, now);
    if (input < limit) {
      const why =
        behavior.scaleDown.selectPolicy === 'Disabled'
          ? 'scaling down is disabled (selectPolicy: Disabled)'
          : `scale-down policies allow at least ${limit} now`;
      return { stage: 'rate-limits', input, output: limit, reason: 'ScaleDownLimit', message: why };
    }
  }
  return { stage: 'rate-limits', input, output: input, reason: 'DesiredWithinRange', message: 'within the scale rate limits' };
}

function cooldownEnd(i: PipelineInput): number | null {
  return i.lastScaleTime === null || i.behavior.cooldownMs <= 0 ? null : i.lastScaleTime + i.behavior.cooldownMs;
}

function cooldownStage(i: PipelineInput, input: number): StageReport {
  const end = cooldownEnd(i);
  if (input < i.current && end !== null && i.now < end) {
    return {
      stage: 'cooldown',
      input,
      output: i.current,
      reason: 'Cooldown',
      message: `no scale-down until ${new Date(end).toISOString()} (cooldownPeriod after the last scale)`,
    };
  }
  return {
    stage: 'cooldown',
    input,
    output: input,
    reason: 'DesiredWithinRange',
    message: end === null ? 'no cooldown applies' : 'cooldown elapsed or not scaling down',
  };
}

/** Times at which a rate limit may loosen: when an event leaves a policy's period. */
function expiries(i: PipelineInput, periods: readonly number[]): number[] {
  const out = new Set<number>();
  for (const e of i.events) for (const p of periods) if (e.time + p * 1000 > i.now) out.add(e.time + p * 1000);
  return [...out].sort((a, b) => a - b);
}

function nextScaleUp(i: PipelineInput): number | null {
  const { current: c, behavior, now } = i;
  if (c >= i.maxReplicas || behavior.scaleUp.selectPolicy === 'Disabled') return null;
  if (scaleUpLimit(c, i.events, behavior.scaleUp, now) > c) return now;
  return (
    expiries(
      i,
      behavior.scaleUp.policies.map((p) => p.periodSeconds),
    ).find((t) => scaleUpLimit(c, i.events, behavior.scaleUp, t) > c) ?? null
  );
}

function nextScaleDown(i: PipelineInput, history: readonly { time: number; replicas: number }[]): number | null {
  const { current: c, behavior, now } = i;
  if (c <= i.minReplicas || behavior.scaleDown.selectPolicy === 'Disabled') return null;
  let at = now;
  if (scaleDownLimit(c, i.events, behavior.scaleDown, now) >= c) {
    const t = expiries(
      i,
      behavior.scaleDown.policies.map((p) => p.periodSeconds),
    ).find((x) => scaleDownLimit(c, i.events, behavior.scaleDown, x) < c);
    if (t === undefined) return null;
    at = Math.max(at, t);
  }
  // Stabilization holds the count while a recommendation at or above it is inside the window.
  for (const r of history) if (r.replicas >= c) at = Math.max(at, r.time + behavior.scaleDown.stabilizationWindowMs);
  const end = cooldownEnd(i);
  return end !== null ? Math.max(at, end) : at;
}

const STABILIZATION_MESSAGES: Readonly<Record<string, string>> = {
  ScaleUpStabilized: 'recent recommendations were lower: applying the lowest in the scale-up window',
  ScaleDownStabilized: 'recent recommendations were higher: applying the highest in the scale-down window',
};

function stabilizationStage(i: PipelineInput, input: number): StageReport {
  const s = stabilize(i.history, input, i.current, i.behavior.scaleUp.stabilizationWindowMs, i.behavior.scaleDown.stabilizationWindowMs, i.now);
  return {
    stage: 'stabilization',
    input,
    output: s.replicas,
    reason: s.reason,
    message: STABILIZATION_MESSAGES[s.reason] ?? 'no recent recommendation holds it back',
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function runPipeline(i: PipelineInput): PipelineResult {
  const stages: StageReport[] = [];
  const raw = rawStage(i);
  stages.push(raw);
  const holding = raw.reason !== 'Recommended';
  const tol = holding ? skipped('tolerance', raw.output, `holding: ${raw.reason}`) : toleranceStage(i, raw.output);
  stages.push(tol);
  const { forced, ...bounds } = boundsStage(i, tol.output);
  stages.push(bounds);
  let record: number | null = null;
  let value = bounds.output;
  if (forced) {
    for (const s of ['stabilization', 'rate-limits', 'cooldown'] as const)
      stages.push(skipped(s, value, 'the pool is outside its bounds: going straight to the bound'));
  } else {
    const stable = holding ? skipped('stabilization', value, 'nothing recorded while holding') : stabilizationStage(i, value);
    stages.push(stable);
    if (!holding) record = value;
    value = stable.output;
    const rate = rateStage(i, value);
    stages.push(rate);
    const cool = cooldownStage(i, rate.output);
    stages.push(cool);
    value = cool.output;
  }
  const changed = [...stages].reverse().find((s) => s.output !== s.input && s.stage !== 'raw');
  const final =
    changed ?? (raw.output !== raw.input || holding ? raw : { reason: 'DesiredWithinRange' as const, message: `the pool is at its recommended size ${value}` });
  const history = record === null ? i.history : [...i.history, { time: i.now, replicas: record }];
  return {
    desired: value,
    reason: final.reason,
    message: final.message,
    stages,
    record,
    nextScaleUpAt: nextScaleUp(i),
    nextScaleDownAt: nextScaleDown(i, history),
  };
}
