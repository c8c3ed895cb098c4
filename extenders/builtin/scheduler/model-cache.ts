/**
 * model-cache: prefers nodes whose `neuronetes.io/cached-models` annotation holds the pool's model
 * (pool → AgentClass → modelRef): warm nodes score 100. A cold node scores lower the bigger the
 * model, since its weights must be pulled first: 90 × referenceSize / (referenceSize + size), so a
 * model of `referenceSize` scores 45 and a 140Gi model far less than a 16Gi one. Never filters.
 */
import { Type } from 'typebox';
import type { Node, Pod } from '../../../src/api/kubernetes.ts';
import type { AgentPool } from '../../../src/api/neuronetes.ts';
import { SKIP, type PassPlan, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { parseQuantity } from '../../../src/util/quantity.ts';
import { nodeFacts } from './node-facts.ts';
import { definePluginConfig, PositiveQuantity } from './plugin-config.ts';
import { poolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE } from './verdicts.ts';

/** The best a cold node can do: never as good as a warm one. */
const COLD_MAX = 90;
const config = definePluginConfig('model-cache', Type.Object({ referenceSize: PositiveQuantity }), { referenceSize: '32Gi' });

/** The config's reference size in bytes, parsed once per config. */
const referenceBytes = new WeakMap<object, number>();
function referenceSize(ctx: SchedulerContext): number {
  const c = config(ctx);
  let bytes = referenceBytes.get(c);
  if (bytes === undefined) referenceBytes.set(c, (bytes = parseQuantity(c.referenceSize)));
  return bytes;
}

export class ModelCachePlugin implements SchedulerPlugin {
  name(): string {
    return 'model-cache';
  }

  /** A pool whose model is unknown has no warm nodes to prefer. */
  preScore(ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return pool === undefined || poolFacts(ctx, pool).model === undefined ? SKIP : undefined;
  }

  score(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): number {
    if (pool === undefined) return NEUTRAL_SCORE;
    const model = poolFacts(ctx, pool).model;
    if (model === undefined) return NEUTRAL_SCORE;
    if (nodeFacts(ctx.cluster, node).cachedModels.has(model.name)) return 100;
    if (model.size === undefined) return COLD_MAX / 2;
    const ref = referenceSize(ctx);
    return Math.round((COLD_MAX * ref) / (ref + model.size));
  }
}
