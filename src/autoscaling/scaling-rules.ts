/**
 * A pool's `spec.autoscaling.behavior` in HPA's terms: per direction a stabilization window, rate
 * policies (maxChangePercent = HPA's Percent policy, maxChangeAbsolute = its Pods policy) with a
 * selectPolicy, and a tolerance. Unset parts get HPA's defaults for a set `behavior`.
 */
import { AUTOSCALING_LIMITS, type AgentPoolSpec, type ScalingRules } from '../api/neuronetes.ts';
import { parseDuration } from '../util/duration.ts';
import type { Tolerances } from './replica-calculator.ts';

export type SelectPolicy = 'Max' | 'Min' | 'Disabled';

export interface ScalingPolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  readonly periodSeconds: number;
}

export interface DirectionRules {
  readonly stabilizationWindowMs: number;
  readonly selectPolicy: SelectPolicy;
  readonly policies: readonly ScalingPolicy[];
  readonly tolerance: number;
}

export interface ResolvedBehavior {
  readonly scaleUp: DirectionRules;
  readonly scaleDown: DirectionRules;
  /** No scale-down within this time after any scale event. */
  readonly cooldownMs: number;
}

export interface BehaviorDefaults {
  readonly tolerance: Tolerances;
  readonly selectPolicy: { readonly scaleUp: SelectPolicy; readonly scaleDown: SelectPolicy };
}

/** HPA's policy period when none is given. */
export const DEFAULT_PERIOD_SECONDS = 15;

/** A pool spec the autoscaler cannot use; `field` is its path under `spec`. */
export class PoolSpecError extends Error {
  constructor(field: string, why: string) {
    super(`spec.${field}: ${why}`);
    this.name = 'PoolSpecError';
  }
}

/** Parses one of the AUTOSCALING_LIMITS durations of a pool, in ms; throws PoolSpecError. */
export function boundedDuration(field: string, text: string, limit: Exclude<keyof typeof AUTOSCALING_LIMITS, 'periodSeconds'>): number {
  const max = AUTOSCALING_LIMITS[limit];
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (e: unknown) {
    throw new PoolSpecError(field, (e as Error).message);
  }
  if (!(ms <= parseDuration(max))) throw new PoolSpecError(field, `${JSON.stringify(text)} is longer than the ${max} allowed`);
  return ms;
}

/** HPA's defaults (pkg/apis/autoscaling/v2/defaults.go): up 0 s window, max(+100 %, +4 pods) per 15 s. */
export function defaultScaleUpPolicies(periodSeconds = DEFAULT_PERIOD_SECONDS): ScalingPolicy[] {
  return [
    { type: 'Pods', value: 4, periodSeconds },
    { type: 'Percent', value: 100, periodSeconds },
  ];
}

/** Down: 300 s window, −100 % per 15 s. */
export function defaultScaleDownPolicies(periodSeconds = DEFAULT_PERIOD_SECONDS): ScalingPolicy[] {
  return [{ type: 'Percent', value: 100, periodSeconds }];
}

export const DEFAULT_SCALE_UP_WINDOW_MS = 0;
export const DEFAULT_SCALE_DOWN_WINDOW_MS = 300_000;

function direction(
  field: string,
  rules: ScalingRules | undefined,
  windowMs: number,
  defaults: (period?: number) => ScalingPolicy[],
  selectPolicy: SelectPolicy,
  tolerance: number,
): DirectionRules {
  const period = rules?.periodSeconds ?? DEFAULT_PERIOD_SECONDS;
  if (!(period <= AUTOSCALING_LIMITS.periodSeconds))
    throw new PoolSpecError(`${field}.periodSeconds`, `${period} is more than the ${AUTOSCALING_LIMITS.periodSeconds} allowed`);
  const policies: ScalingPolicy[] = [];
  if (rules?.maxChangeAbsolute !== undefined) policies.push({ type: 'Pods', value: rules.maxChangeAbsolute, periodSeconds: period });
  if (rules?.maxChangePercent !== undefined) policies.push({ type: 'Percent', value: rules.maxChangePercent, periodSeconds: period });
  return {
    stabilizationWindowMs:
      rules?.stabilizationWindow !== undefined ? boundedDuration(`${field}.stabilizationWindow`, rules.stabilizationWindow, 'stabilizationWindow') : windowMs,
    selectPolicy: rules?.selectPolicy ?? selectPolicy,
    policies: policies.length > 0 ? policies : defaults(period),
    tolerance: rules?.tolerance ?? tolerance,
  };
}

/** Throws PoolSpecError for a duration or period out of AUTOSCALING_LIMITS. */
export function resolveBehavior(autoscaling: AgentPoolSpec['autoscaling'], defaults: BehaviorDefaults): ResolvedBehavior {
  const b = autoscaling?.behavior;
  const at = 'autoscaling.behavior';
  return {
    scaleUp: direction(
      `${at}.scaleUp`,
      b?.scaleUp,
      DEFAULT_SCALE_UP_WINDOW_MS,
      defaultScaleUpPolicies,
      defaults.selectPolicy.scaleUp,
      defaults.tolerance.scaleUp,
    ),
    scaleDown: direction(
      `${at}.scaleDown`,
      b?.scaleDown,
      DEFAULT_SCALE_DOWN_WINDOW_MS,
      defaultScaleDownPolicies,
      defaults.selectPolicy.scaleDown,
      defaults.tolerance.scaleDown,
    ),
    cooldownMs: autoscaling?.cooldownPeriod !== undefined ? boundedDuration('autoscaling.cooldownPeriod', autoscaling.cooldownPeriod, 'cooldownPeriod') : 0,
  };
}

/** How far back scale events matter: the longest policy period, or the cooldown. */
export function eventHorizonMs(b: ResolvedBehavior): number {
  const periods = [...b.scaleUp.policies, ...b.scaleDown.policies].map((p) => p.periodSeconds * 1000);
  return Math.max(b.cooldownMs, ...periods);
}
