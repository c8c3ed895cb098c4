/**
 * ClusterState resolves many node names at once, faster when kube-scheduler repeats its order; the
 * answer must not depend on what was asked before, and a picture that follows another shares its
 * node index only while the nodes are the same objects. A picture made from the one before and a
 * few changed pods answers as one made afresh, and shares what the changes left alone.
 */
import t from 'tap';
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import { ClusterState, podKeyOf, type ClusterObjects, type ClusterView } from '../../src/cluster/cluster-view.ts';
import { agentPool, node, pod } from '../helpers/cluster-fixtures.ts';

const objects = (nodes: readonly Node[]): ClusterObjects => ({ nodes, pods: [], agentPools: [], agentClasses: [], models: [] });
const names = (list: readonly Node[]): string[] => list.map((n) => n.metadata.name);
/** A name as a request brings it: a fresh string, not the cache's own. */
const fresh = (name: string): string => JSON.parse(JSON.stringify(name)) as string;

const all = Array.from({ length: 200 }, (_, i) => node(`node-${i}`));

t.test('nodesNamed answers in the order asked, whatever was asked before', async (t) => {
  const view = new ClusterState(objects(all), 1);
  const byName = (list: readonly string[]) => ({
    nodes: list.filter((n) => view.node(n) !== undefined).map((n) => view.node(n) as Node),
    unknown: list.filter((n) => view.node(n) === undefined),
  });
  const asks: string[][] = [
    names(all),
    names(all), // the same again
    names(all).filter((_, i) => i % 3 === 0), // a subsequence, as prioritize after filter
    names(all).filter((_, i) => i % 37 === 0 || i > 150), // gaps past the look-ahead
    [...names(all).slice(120), ...names(all).slice(0, 120)], // rotated
    [...names(all)].reverse(),
    ['ghost-1', 'node-5', 'ghost-2', 'node-5', 'node-4'], // unknown names and repeats
    [],
    names(all).slice(10, 30),
    // kube-scheduler's window moving on from pod to pod, wrapping around
    names(all).slice(150, 200),
    [...names(all).slice(190), ...names(all).slice(0, 40)],
    names(all).slice(40, 90),
  ];
  for (const [i, ask] of asks.entries()) {
    const got = view.nodesNamed(ask.map(fresh));
    t.same(names(got.nodes), names(byName(ask).nodes), `ask ${i}: the nodes`);
    t.same(got.unknown, byName(ask).unknown, `ask ${i}: the unknown names`);
    t.ok(
      got.nodes.every((n, j) => n === view.node(names(got.nodes)[j] as string)),
      `ask ${i}: the cache's own objects`,
    );
  }
});

t.test('a picture keeps the node index of the one before only while its nodes are the same objects', async (t) => {
  const first = new ClusterState(objects(all), 1);
  first.nodesNamed(names(all));
  const podsOnly = new ClusterState({ ...objects([...all]), pods: [pod('p', { nodeName: 'node-1' })] }, 2, first);
  t.equal(podsOnly.nodes(), first.nodes(), 'same node objects: the index (and its list) is shared');
  t.equal(podsOnly.podsOnNode('node-1').length, 1);

  const relabelled = { ...all[7], metadata: { ...all[7]?.metadata, name: 'node-7', labels: { changed: 'yes' } } } as Node;
  const changed = new ClusterState(objects(all.map((n, i) => (i === 7 ? relabelled : n))), 3, podsOnly);
  t.not(changed.nodes(), first.nodes(), 'a changed node: a new index');
  t.equal(changed.node('node-7'), relabelled);
  t.equal(changed.nodesNamed([fresh('node-6'), fresh('node-7')]).nodes[1], relabelled, 'nodesNamed never answers with the old object');
  const fewer = new ClusterState(objects(all.slice(1)), 4, changed);
  t.same(fewer.nodesNamed([fresh('node-0'), fresh('node-1')]), { nodes: [all[1]], unknown: ['node-0'] }, 'a removed node is unknown');
});

/** What a picture says about pods, in an order that does not depend on how it was made. */
function podAnswers(view: ClusterView, nodeNames: readonly string[], pools: readonly (readonly [string, string])[]): unknown {
  const keys = (list: readonly Pod[]): string[] => list.map((p) => `${podKeyOf(p)}@${p.metadata.uid ?? ''}`).sort();
  return {
    all: keys(view.pods()),
    byNode: nodeNames.map((n) => keys(view.podsOnNode(n))),
    byPool: pools.map(([ns, p]) => keys(view.podsOfPool(ns, p))),
  };
}

t.test('a picture made from the one before and the pods that changed answers as one made afresh', async (t) => {
  // A small deterministic generator: the same sequence on every run.
  let seed = 42;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const nodeNames = Array.from({ length: 6 }, (_, i) => `node-${i}`);
  const pools = [
    ['a', 'chat'],
    ['a', 'code'],
    ['b', 'chat'],
  ] as const;
  const nodes = nodeNames.map((n) => node(n));
  const truth = new Map<string, Pod>();
  let view = new ClusterState(objects(nodes), 1);
  let version = 1;
  const wrong: string[] = [];
  const relisted: string[] = [];
  const changedBefore: string[] = [];
  const unnamed: string[] = [];
  const history: ClusterState[] = [];
  for (let step = 0; step < 400; step++) {
    const changes = new Map<string, Pod | undefined>();
    for (let c = 0, count = 1 + random(3); c < count; c++) {
      const namespace = random(2) === 0 ? 'a' : 'b';
      const name = `p${random(12)}`;
      const key = `${namespace}/${name}`;
      if (random(5) === 0) {
        truth.delete(key);
        changes.set(key, undefined);
        continue;
      }
      const where = random(nodeNames.length + 2);
      const poolName = [undefined, 'chat', 'code'][random(3)];
      const phase = ['Pending', 'Running', 'Running', 'Succeeded', 'Failed'][random(5)] as string;
      const next = pod(name, {
        namespace,
        ...(poolName !== undefined ? { pool: poolName } : {}),
        ...(where < nodeNames.length ? { nodeName: nodeNames[where] as string } : {}),
        phase,
        uid: `uid-${name}-${step}`,
      });
      truth.set(key, next);
      changes.set(key, next);
    }
    const before = view;
    history.push(before);
    const beforeSaid = JSON.stringify(podAnswers(before, nodeNames, pools));
    view = view.next(++version, { pods: changes });
    if (JSON.stringify(podAnswers(before, nodeNames, pools)) !== beforeSaid) changedBefore.push(`step ${step}`);
    const afresh = new ClusterState({ ...objects(nodes), pods: [...truth.values()] }, version);
    const got = JSON.stringify(podAnswers(view, nodeNames, pools));
    const want = JSON.stringify(podAnswers(afresh, nodeNames, pools));
    if (got !== want) wrong.push(`step ${step}: ${got} ≠ ${want}`);
    const touched = new Set(
      [...changes.keys()].flatMap((key) => [before.pods().find((p) => podKeyOf(p) === key), changes.get(key)]).map((p) => p?.spec?.nodeName),
    );
    for (const n of nodeNames) if (!touched.has(n) && view.podsOnNode(n) !== before.podsOnNode(n)) relisted.push(`step ${step}: ${n}`);
    // What changed since a picture a few steps back: every node whose pods differ is named.
    for (const back of [1, 5, 16]) {
      const earlier = history.at(-back);
      if (earlier === undefined) continue;
      const since = view.nodesWithChangedPodsSince(earlier);
      const differ = nodeNames.filter((n) => JSON.stringify(view.podsOnNode(n)) !== JSON.stringify(earlier.podsOnNode(n)));
      if (since === undefined || differ.some((n) => !since.has(n)))
        unnamed.push(`step ${step}, ${back} back: ${differ.join()} vs ${since === undefined ? 'unknown' : [...since].join()}`);
    }
    const tooFar = history.at(-17);
    if (tooFar !== undefined && view.nodesWithChangedPodsSince(tooFar) !== undefined) unnamed.push(`step ${step}: 17 back is beyond what a picture remembers`);
  }
  t.same(wrong, [], 'after each of 400 steps, the same pods, by node and by pool');
  t.same(relisted, [], "an untouched node's pods are the same list as before");
  t.same(changedBefore, [], 'the picture a new one is made from still answers as it did');
  t.same(unnamed, [], 'nodesWithChangedPodsSince names every node whose pods changed, up to 16 pictures back');
  t.ok(truth.size > 5 && view.podsOnNode('node-0').length > 0, 'the sequence filled the picture');
});

t.test('a picture made from another shares the kinds its changes leave out and replaces those they give', async (t) => {
  const first = new ClusterState({ ...objects(all.slice(0, 3)), pods: [pod('p', { nodeName: 'node-1', pool: 'chat' })], agentPools: [agentPool('chat')] }, 1);
  const podOnly = first.next(2, { pods: new Map([['agents/q', pod('q', { nodeName: 'node-2' })]]) });
  t.equal(podOnly.version, 2);
  t.equal(podOnly.nodes(), first.nodes(), 'the same nodes');
  t.equal(podOnly.pool('agents', 'chat'), first.pool('agents', 'chat'), 'the same pools');
  t.equal(podOnly.podsOnNode('node-1'), first.podsOnNode('node-1'), "an untouched node's pods: the same list");
  t.same(
    podOnly.podsOnNode('node-2').map((p) => p.metadata.name),
    ['q'],
  );
  t.same(first.podsOnNode('node-2'), [], 'the picture it came from is unchanged');

  const relisted = podOnly.next(3, { nodes: all.slice(0, 2), agentPools: [] });
  t.same(names(relisted.nodes()), ['node-0', 'node-1']);
  t.equal(relisted.pool('agents', 'chat'), undefined, 'a pool gone from the list is gone');
  t.same(
    relisted.podsOnNode('node-2').map((p) => p.metadata.name),
    ['q'],
    'pods stay until a pod change says otherwise',
  );
  t.same(podOnly.nodesWithChangedPodsSince(first), new Set(['node-2']));
  t.same(podOnly.nodesWithChangedPodsSince(podOnly), new Set(), 'nothing changed since itself');
  t.equal(first.nodesWithChangedPodsSince(podOnly), undefined, 'not known backwards');
  t.equal(relisted.nodesWithChangedPodsSince(podOnly), undefined, 'not known across a change of nodes');
  t.equal(podOnly.nodesWithChangedPodsSince(new ClusterState(objects(all.slice(0, 3)), 2)), undefined, 'not known for an unrelated picture');
  t.same(podOnly.next(5, { nodes: [...first.nodes()] }).nodesWithChangedPodsSince(first), new Set(['node-2']), 'the same nodes listed again keep the lineage');
  const gone = relisted.next(4, { pods: new Map([['agents/p', undefined]]) });
  t.same(gone.podsOfPool('agents', 'chat'), [], 'a deleted pod leaves its pool');
  t.same(gone.podsOnNode('node-1'), [], 'and its node');
});
