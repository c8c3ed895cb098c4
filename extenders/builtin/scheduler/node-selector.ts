/**
 * node-selector: the pool's `scheduling.nodeSelector` must match the node's labels exactly (a pod's
 * own nodeSelector is kube-scheduler's business). A mismatch is unresolvable.
 */
import { definePlugin, SKIP, stateKey } from 'neuronetes';
import { poolFacts } from './pool-facts.ts';
import { unresolvable, VerdictCache } from './verdicts.ts';

const Mismatches = stateKey<VerdictCache>('node-selector/mismatches');

export const nodeSelectorPlugin = definePlugin({
  type: 'scheduler',
  name: 'node-selector',
  /** Cheapest and hardest of the filters: first. */
  priority: 300,
  create: () => ({
    preFilter(ctx, _pod, pool) {
      return pool === undefined || poolFacts(ctx, pool).nodeSelector.length === 0 ? SKIP : undefined;
    },

    filter(ctx, _pod, node, pool) {
      if (pool === undefined) return true;
      const labels = node.metadata.labels;
      for (const [key, wanted] of poolFacts(ctx, pool).nodeSelector) {
        const actual = labels?.[key];
        if (actual !== wanted) {
          const mismatch = ctx.state.readOrCompute(Mismatches, () => new VerdictCache());
          return (
            mismatch.get(key, actual) ??
            mismatch.set(
              unresolvable(`pool's nodeSelector wants ${key}=${wanted}; node ${actual === undefined ? `has no ${key} label` : `has ${key}=${actual}`}`),
            )
          );
        }
      }
      return true;
    },
  }),
});
