/**
 * ClusterState resolves many node names at once, faster when kube-scheduler repeats its order; the
 * answer must not depend on what was asked before, and a picture that follows another shares its
 * node index only while the nodes are the same objects.
 */
import t from 'tap';
import type { Node } from '../../src/api/kubernetes.ts';
import { ClusterState, type ClusterObjects } from '../../src/cluster/cluster-view.ts';
import { node, pod } from '../helpers/cluster-fixtures.ts';

const objects = (nodes: readonly Node[]): ClusterObjects => ({ nodes, pods: [], agentPools: [], agentClasses: [], models: [] });
const names = (list: readonly Node[]): string[] => list.map((n) => n.metadata.name);
/** A name as a request brings it: a fresh string, not the cache's own. */
const fresh = (name: string): string => JSON.parse(JSON.stringify(name)) as string;

const all = Array.from({ length: 200 }, (_, i) => node(`node-${i}`));

t.test('nodesNamed answers in the order asked, whatever was asked before', async (t) => {
  const view = new ClusterState(objects(all), 1);
  const byName = (list: readonly string[]) => ({ nodes: list.filter((n) => view.node(n) !== undefined).map((n) => view.node(n) as Node), unknown: list.filter((n) => view.node(n) === undefined) });
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
    t.ok(got.nodes.every((n, j) => n === view.node(names(got.nodes)[j] as string)), `ask ${i}: the cache's own objects`);
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
