/**
 * zone-preference: a scheduler plugin that prefers nodes in the zones you list, first zone best.
 * Importing this module registers it; the service imports it when the config names the package
 * under `plugins:`.
 */
import { definePlugin, registerPlugin, SKIP, type Node } from 'neuronetes';
import { Type } from 'typebox';

const ZONE_LABEL = 'topology.kubernetes.io/zone';

export const zonePreference = definePlugin({
  type: 'scheduler',
  name: 'zone-preference',
  config: Type.Object(
    {
      zones: Type.Array(Type.String({ minLength: 1 }), { default: [], uniqueItems: true, description: 'zones in order of preference' }),
    },
    { additionalProperties: false },
  ),
  defaults: { weight: 1, timeout: '50ms' },
  create(config) {
    // First zone 100, then evenly less; a zone not listed 0.
    const scoreOf = new Map(config.zones.map((zone, i) => [zone, Math.round((100 * (config.zones.length - i)) / config.zones.length)]));
    return {
      // No zones listed: no preference, so the plugin sits out instead of giving every node the same score.
      preScore: () => (scoreOf.size === 0 ? SKIP : undefined),
      score: (_ctx, _pod, node: Node) => scoreOf.get(node.metadata.labels?.[ZONE_LABEL] ?? '') ?? 0,
    };
  },
});

registerPlugin(zonePreference);
