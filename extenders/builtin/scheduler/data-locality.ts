/**
 * data-locality: scores by `scheduling.dataLocality`. A name is present on a node when an active pod
 * of the pool's namespace bound there carries it as the value of one of the `storeLabels`
 * (`neuronetes.io/vector-store`, `neuronetes.io/cache`, `app.kubernetes.io/name` by default), and in
 * its zone when present on any node of the zone. Each `vectorStoreAffinity`/`cacheAffinity` name
 * present on the node adds up to +50 (+25 in the zone), each `antiAffinity` name takes as much
 * away, averaged over the names listed; 50 is the middle. Never filters.
 */
import { definePlugin, SKIP, stateKey, type AgentPool, type ClusterView } from 'neuronetes';
import { Type } from 'typebox';
import { NEUTRAL_SCORE } from './verdicts.ts';

interface Presence {
  readonly nodes: Set<string>;
  readonly zones: Set<string>;
}

/** `namespace/name` → where it runs. */
type PresenceIndex = ReadonlyMap<string, Presence>;

function indexPresence(view: ClusterView, storeLabels: readonly string[]): PresenceIndex {
  const facts = view.allNodeFacts();
  const index = new Map<string, Presence>();
  for (const node of view.nodes()) {
    const zone = facts.get(node.metadata.name)?.zone;
    for (const pod of view.podsOnNode(node.metadata.name)) {
      const labels = pod.metadata.labels;
      if (labels === undefined) continue;
      for (const key of storeLabels) {
        const value = labels[key];
        if (value === undefined) continue;
        const id = `${pod.metadata.namespace ?? 'default'}/${value}`;
        let p = index.get(id);
        if (p === undefined) index.set(id, (p = { nodes: new Set(), zones: new Set() }));
        p.nodes.add(node.metadata.name);
        if (zone !== undefined) p.zones.add(zone);
      }
    }
  }
  return index;
}

/** Sums 1 per name present on the node, 0.5 per name present only in its zone. */
function closeness(names: readonly (Presence | undefined)[], node: string, zone: string | undefined): number {
  let sum = 0;
  for (const p of names) {
    if (p === undefined) continue;
    if (p.nodes.has(node)) sum += 1;
    else if (zone !== undefined && p.zones.has(zone)) sum += 0.5;
  }
  return sum;
}

/** A pool's names looked up in the index: the same for every node a call scores. */
interface Wanted {
  readonly near: readonly (Presence | undefined)[];
  readonly away: readonly (Presence | undefined)[];
}
const CallWanted = stateKey<Wanted>('data-locality/wanted');

const NONE: readonly string[] = [];

type LocalityWants = NonNullable<NonNullable<AgentPool['spec']['scheduling']>['dataLocality']>;

/** The pool's data-locality wishes, when it names anything to be near or away from. */
function wantsOf(pool: AgentPool | undefined): LocalityWants | undefined {
  const wants = pool?.spec.scheduling?.dataLocality;
  if (wants === undefined) return undefined;
  const named = (wants.vectorStoreAffinity ?? NONE).length + (wants.cacheAffinity ?? NONE).length + (wants.antiAffinity ?? NONE).length;
  return named === 0 ? undefined : wants;
}

export const dataLocalityPlugin = definePlugin({
  type: 'scheduler',
  name: 'data-locality',
  config: Type.Object(
    { storeLabels: Type.Array(Type.String({ minLength: 1 }), { default: ['neuronetes.io/vector-store', 'neuronetes.io/cache', 'app.kubernetes.io/name'] }) },
    { additionalProperties: false },
  ),
  defaults: { weight: 10 },
  create: (config) => {
    // One index per picture and set of store labels.
    const memoKey = `builtin/data-locality:${config.storeLabels.join(',')}`;
    const index = (view: ClusterView): PresenceIndex => indexPresence(view, config.storeLabels);
    const wantedBy = (view: ClusterView, pool: AgentPool, wants: LocalityWants): Wanted => {
      const presence = view.memo(memoKey, index);
      const namespace = pool.metadata.namespace ?? 'default';
      const look = (names: readonly string[]): (Presence | undefined)[] => names.map((name) => presence.get(`${namespace}/${name}`));
      return { near: look([...(wants.vectorStoreAffinity ?? NONE), ...(wants.cacheAffinity ?? NONE)]), away: look(wants.antiAffinity ?? NONE) };
    };
    return {
      preScore(_ctx, _pod, pool) {
        return wantsOf(pool) === undefined ? SKIP : undefined;
      },

      score(ctx, _pod, node, pool) {
        const wants = wantsOf(pool);
        if (pool === undefined || wants === undefined) return NEUTRAL_SCORE;
        const wanted = ctx.state.readOrCompute(CallWanted, () => wantedBy(ctx.cluster, pool, wants));
        const name = node.metadata.name;
        const zone = ctx.cluster.nodeFacts(node).zone;
        const near = wanted.near.length === 0 ? 0 : closeness(wanted.near, name, zone) / wanted.near.length;
        const away = wanted.away.length === 0 ? 0 : closeness(wanted.away, name, zone) / wanted.away.length;
        return Math.round(NEUTRAL_SCORE + 50 * near - 50 * away);
      },
    };
  },
});
