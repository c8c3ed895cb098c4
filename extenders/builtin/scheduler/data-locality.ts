/**
 * data-locality: scores by `scheduling.dataLocality`. A name is present on a node when an active pod
 * of the pool's namespace bound there carries it as the value of one of the `storeLabels`
 * (`neuronetes.io/vector-store`, `neuronetes.io/cache`, `app.kubernetes.io/name` by default), and in
 * its zone when present on any node of the zone. Each `vectorStoreAffinity`/`cacheAffinity` name
 * present on the node adds up to +50 (+25 in the zone), each `antiAffinity` name takes as much
 * away, averaged over the names listed; 50 is the middle. Never filters.
 */
import { Type } from 'typebox';
import type { Node, Pod } from '../../../src/api/kubernetes.ts';
import type { AgentPool } from '../../../src/api/neuronetes.ts';
import type { ClusterView } from '../../../src/cluster/cluster-view.ts';
import { SKIP, type PassPlan, type SchedulerContext, type SchedulerPlugin } from '../../../src/plugins/types.ts';
import { nodeFacts, nodeFactsByName } from './node-facts.ts';
import { definePluginConfig } from './plugin-config.ts';
import { NEUTRAL_SCORE } from './verdicts.ts';

const config = definePluginConfig('data-locality', Type.Object({ storeLabels: Type.Array(Type.String({ minLength: 1 })) }), {
  storeLabels: ['neuronetes.io/vector-store', 'neuronetes.io/cache', 'app.kubernetes.io/name'],
});

interface Presence {
  readonly nodes: Set<string>;
  readonly zones: Set<string>;
}

/** `namespace/name` → where it runs. */
type PresenceIndex = ReadonlyMap<string, Presence>;

function indexPresence(view: ClusterView, storeLabels: readonly string[]): PresenceIndex {
  const facts = nodeFactsByName(view);
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

/** A pool's names looked up in the index: the same for every node a pass scores. */
interface Wanted {
  readonly near: readonly (Presence | undefined)[];
  readonly away: readonly (Presence | undefined)[];
}
/** One memo per set of store labels; its key and compute function are made once per config. */
const memos = new WeakMap<readonly string[], { key: string; compute: (view: ClusterView) => PresenceIndex }>();
function presence(view: ClusterView, storeLabels: readonly string[]): PresenceIndex {
  let memo = memos.get(storeLabels);
  if (memo === undefined) memos.set(storeLabels, (memo = { key: `builtin/data-locality:${storeLabels.join(',')}`, compute: (v) => indexPresence(v, storeLabels) }));
  return view.memo(memo.key, memo.compute);
}

let last: { view: ClusterView; storeLabels: readonly string[]; pool: AgentPool; wanted: Wanted } | undefined;

/** The pool's names looked up in the picture's index, once per pass: the same for every node. */
function wantedBy(ctx: SchedulerContext, pool: AgentPool, vector: readonly string[], cache: readonly string[], anti: readonly string[]): Wanted {
  const view = ctx.cluster;
  const storeLabels = config(ctx).storeLabels;
  if (last?.view === view && last.storeLabels === storeLabels && last.pool === pool) return last.wanted;
  const index = presence(view, storeLabels);
  const namespace = pool.metadata.namespace ?? 'default';
  const look = (names: readonly string[]): (Presence | undefined)[] => names.map((name) => index.get(`${namespace}/${name}`));
  last = { view, storeLabels, pool, wanted: { near: look([...vector, ...cache]), away: look(anti) } };
  return last.wanted;
}

const NONE: readonly string[] = [];

type LocalityWants = NonNullable<NonNullable<AgentPool['spec']['scheduling']>['dataLocality']>;

/** The pool's data-locality wishes, when it names anything to be near or away from. */
function wantsOf(pool: AgentPool | undefined): LocalityWants | undefined {
  const wants = pool?.spec.scheduling?.dataLocality;
  if (wants === undefined) return undefined;
  const named = (wants.vectorStoreAffinity ?? NONE).length + (wants.cacheAffinity ?? NONE).length + (wants.antiAffinity ?? NONE).length;
  return named === 0 ? undefined : wants;
}

export class DataLocalityPlugin implements SchedulerPlugin {
  name(): string {
    return 'data-locality';
  }

  preScore(_ctx: SchedulerContext, _pod: Pod, pool: AgentPool | undefined): PassPlan {
    return wantsOf(pool) === undefined ? SKIP : undefined;
  }

  score(ctx: SchedulerContext, _pod: Pod, node: Node, pool: AgentPool | undefined): number {
    const wants = wantsOf(pool);
    if (pool === undefined || wants === undefined) return NEUTRAL_SCORE;
    const wanted = wantedBy(ctx, pool, wants.vectorStoreAffinity ?? NONE, wants.cacheAffinity ?? NONE, wants.antiAffinity ?? NONE);
    const name = node.metadata.name;
    const zone = nodeFacts(ctx.cluster, node).zone;
    const near = wanted.near.length === 0 ? 0 : closeness(wanted.near, name, zone) / wanted.near.length;
    const away = wanted.away.length === 0 ? 0 : closeness(wanted.away, name, zone) / wanted.away.length;
    return Math.round(NEUTRAL_SCORE + 50 * near - 50 * away);
  }
}
