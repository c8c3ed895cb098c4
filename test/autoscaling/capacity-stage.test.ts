/**
 * The pure parts of the capacity stage: a count turned into the stage and the shortfall in words,
 * what one replica needs, the stage appended to the pipeline's result, and the what-if picture the
 * count places replicas in. Through the decision endpoint with the built-in filters: capacity-decide.test.ts.
 */
import t from 'tap';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { capacityStage, replicaNeed, skippedCapacity, withCapacity } from '../../src/autoscaling/capacity-stage.ts';
import type { PipelineResult } from '../../src/autoscaling/decision-pipeline.ts';
import { AssumedView } from '../../src/cluster/assumed-view.ts';
import type { PlacementCount, ShortReason } from '../../src/scheduling/placement-count.ts';
import { agentPool, clusterView, gpuNode, pod } from '../../src/testing/builders.ts';

const h100Pool = (requestUnplaceable?: boolean): AgentPool =>
  agentPool({
    name: 'chat',
    gpu: { count: 1, type: 'H100', memory: '80Gi' },
    ...(requestUnplaceable !== undefined ? { spec: { autoscaling: { requestUnplaceable } } } : {}),
  });

const inUse: ShortReason = { plugin: 'gpu-fit', reason: 'needs 1×H100 80Gi, node has 0 free (4 of 4 in use)', unresolvable: false, nodes: 2 };
const counted = (fit: number, reasons: ShortReason[] = [inUse], pending = 0): PlacementCount => ({
  status: 'counted',
  fit,
  pending,
  reasons,
});

t.test('what one replica needs, in words', async (t) => {
  t.equal(replicaNeed(h100Pool()), '1×H100 80Gi');
  t.equal(replicaNeed(agentPool({ name: 'p', gpu: { count: 2 } })), '2×GPU');
  t.equal(replicaNeed(agentPool({ name: 'p', gpu: { count: 1, type: 'A100' }, spec: { migProfile: '1G.10GB' } })), 'a 1g.10gb MIG slice');
  t.equal(replicaNeed(agentPool({ name: 'p' })), "a node the pool's scheduler filters accept");
});

t.test('a shortfall: asked for anyway by default, held when requestUnplaceable is false', async (t) => {
  const shortfall = 'wants 8, 5 can be placed: 3 more need 1×H100 80Gi each; gpu-fit on 2 nodes: needs 1×H100 80Gi, node has 0 free (4 of 4 in use)';
  for (const setting of [undefined, true]) {
    const on = capacityStage(8, 2, counted(3), h100Pool(setting));
    t.same(on.stage, {
      stage: 'capacity',
      input: 8,
      output: 8,
      reason: 'CapacityShort',
      message: `${shortfall}; asking for all 8 (requestUnplaceable) so that a cluster autoscaler can add nodes`,
    });
    t.equal(on.placeable, 5);
    t.equal(on.shortfall, shortfall);
  }
  const off = capacityStage(8, 2, counted(3), h100Pool(false));
  t.same(off.stage, { stage: 'capacity', input: 8, output: 5, reason: 'CapacityLimited', message: `${shortfall}; holding at 5 (requestUnplaceable: false)` });
});

t.test('pending pods of the pool take room before new replicas; never below the current count', async (t) => {
  const some = capacityStage(8, 4, counted(3, [inUse], 2), h100Pool(false));
  t.equal(some.placeable, 5, '3 fit, 2 go to the pending pods: 1 more');
  t.match(some.shortfall, /^wants 8, 5 can be placed \(after the pool's 2 pending pods\): 3 more/);
  const none = capacityStage(8, 4, counted(1, [inUse], 2), h100Pool(false));
  t.equal(none.placeable, 4);
  t.equal(none.stage.output, 4);
});

t.test('everything fits, nothing fits, many reasons', async (t) => {
  t.same(capacityStage(6, 2, counted(4, []), h100Pool()), {
    stage: { stage: 'capacity', input: 6, output: 6, reason: 'CapacityAvailable', message: 'all 4 more can be placed now' },
    placeable: 6,
    shortfall: null,
  });
  t.equal(capacityStage(6, 2, counted(0, []), h100Pool()).shortfall, 'wants 6, 2 can be placed: 4 more need 1×H100 80Gi each; no node can take one');
  t.match(capacityStage(3, 2, counted(0), h100Pool()).shortfall, /^wants 3, 2 can be placed: 1 more needs 1×H100 80Gi each; /);
  const reasons = ['a', 'b', 'c', 'd', 'e'].map((r, i) => ({ plugin: 'p', reason: r, unresolvable: true, nodes: 5 - i }));
  t.match(capacityStage(6, 2, counted(0, reasons), h100Pool()).shortfall, /p on 5 nodes: a; p on 4 nodes: b; p on 3 nodes: c; and 2 other reasons$/);
});

t.test('capacity unknown leaves the count as asked', async (t) => {
  const unknown = capacityStage(8, 2, { status: 'unknown', message: 'scheduler plugin x timed out' }, h100Pool(false));
  t.same(unknown, {
    stage: {
      stage: 'capacity',
      input: 8,
      output: 8,
      reason: 'CapacityUnknown',
      message: 'capacity unknown: scheduler plugin x timed out; 8 is asked for unchanged',
    },
    placeable: null,
    shortfall: null,
  });
});

t.test('the stage joins the pipeline: a cap becomes the decision and its reason, a pass-through keeps them', async (t) => {
  const result: PipelineResult = {
    desired: 8,
    reason: 'Recommended',
    message: 'the autoscaler chain recommends 8',
    stages: [],
    record: 8,
    nextScaleUpAt: null,
    nextScaleDownAt: null,
  };
  const held = withCapacity(result, capacityStage(8, 2, counted(3), h100Pool(false)));
  t.match(held, { desired: 5, reason: 'CapacityLimited', message: /holding at 5/, record: 8 });
  t.equal(held.stages.length, 1);
  const asked = withCapacity(result, capacityStage(8, 2, counted(3), h100Pool()));
  t.match(asked, { desired: 8, reason: 'Recommended', message: 'the autoscaler chain recommends 8' });
  t.match(withCapacity(result, skippedCapacity(8, 'why')), { desired: 8, stages: [{ stage: 'capacity', reason: 'Skipped', message: 'why' }] });
});

t.test('a what-if picture: assumed pods count on their node only, the base picture is untouched', async (t) => {
  const n1 = gpuNode({ name: 'n1', gpus: 4 });
  const n2 = gpuNode({ name: 'n2', gpus: 4 });
  const base = clusterView({ nodes: [n1, n2], pods: [pod({ name: 'a', pool: 'chat', gpus: 1, nodeName: 'n1' })], pools: [agentPool({ name: 'chat' })] });
  const replica = pod({ name: 'chat-x', pool: 'chat', gpus: 2, nodeName: 'n1' });
  const first = AssumedView.of(base);
  const view = first.with(replica, n1);
  t.equal(view.nodeFacts(n1).freeGpus, 1, '4 − 1 bound − 2 assumed');
  t.equal(view.allNodeFacts().get('n1')?.freeGpus, 1);
  t.equal(view.nodeFacts(n2), base.nodeFacts(n2), "another node's facts are the base's own");
  t.equal(base.nodeFacts(n1).freeGpus, 3, 'the base picture is unchanged');
  t.equal(first.nodeFacts(n1).freeGpus, 3, 'so is the picture it was made from');
  t.same(
    view.podsOfPool('default', 'chat').map((p) => p.metadata.name),
    ['a', 'chat-x'],
  );
  t.equal(view.podsOnNode('n1').length, 2);
  t.equal(view.pods().length, 2);
  t.equal(view.assumedOn('n1'), 1);
  let computed = 0;
  const memo = (v: AssumedView | typeof base): number => v.memo('test/pods', (p) => (computed++, p.pods().length));
  t.equal(memo(base), 1);
  t.equal(memo(view), 2, 'a memo of its own: plugins memoize per picture');
  t.equal(memo(view), 2);
  t.equal(computed, 2);
});
