/**
 * model-cache: prefers nodes whose `neuronetes.io/cached-models` annotation holds the pool's model
 * (pool → AgentClass → modelRef): warm nodes score 100. A cold node scores lower the bigger the
 * model, since its weights must be pulled first: 90 × referenceSize / (referenceSize + size), so a
 * model of `referenceSize` scores 45 and a 140Gi model far less than a 16Gi one. Never filters.
 */
import { definePlugin, parseQuantity, SKIP } from 'neuronetes';
import { Type } from 'typebox';
import { poolFacts } from './pool-facts.ts';
import { NEUTRAL_SCORE } from './verdicts.ts';

/** The best a cold node can do: never as good as a warm one. */
const COLD_MAX = 90;

/** A size such as "32Gi": positive, no sign or exponent. */
const POSITIVE_QUANTITY = '^(?=.*[1-9])[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$';

export const modelCachePlugin = definePlugin({
  type: 'scheduler',
  name: 'model-cache',
  config: Type.Object({ referenceSize: Type.String({ pattern: POSITIVE_QUANTITY, default: '32Gi' }) }, { additionalProperties: false }),
  defaults: { weight: 20 },
  create: (config) => {
    const ref = parseQuantity(config.referenceSize);
    return {
      /** A pool whose model is unknown has no warm nodes to prefer. */
      preScore(ctx, _pod, pool) {
        return pool === undefined || poolFacts(ctx, pool).model === undefined ? SKIP : undefined;
      },

      score(ctx, _pod, node, pool) {
        if (pool === undefined) return NEUTRAL_SCORE;
        const model = poolFacts(ctx, pool).model;
        if (model === undefined) return NEUTRAL_SCORE;
        if (ctx.cluster.nodeFacts(node).cachedModels.has(model.name)) return 100;
        if (model.size === undefined) return COLD_MAX / 2;
        return Math.round((COLD_MAX * ref) / (ref + model.size));
      },
    };
  },
});
