import t from 'tap';
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import { migPlugin } from '../../extenders/builtin/scheduler/mig.ts';
import { parseMigConfig } from '../../src/cluster/node-labels.ts';
import { agentPool, node, pod, schedulerContext, verdict, schedulerPlugin } from '../helpers/scheduling-fixtures.ts';

const plugin = schedulerPlugin(migPlugin);
const triage = agentPool('triage', { migProfile: '2g.10gb', gpuRequirements: { count: 1, type: 'A100' } });
const migNode = (name: string, config: string | undefined, capable = 'true'): Node =>
  node(name, { gpus: 2, labels: { 'neuronetes.io/mig-capable': capable, ...(config !== undefined ? { 'neuronetes.io/mig-config': config } : {}) } });

interface Case {
  name: string;
  pool?: AgentPool;
  node: Node;
  pods?: Pod[];
  passed: boolean;
  unresolvable?: boolean;
  reason?: string;
}

const cases: Case[] = [
  { name: 'a pod of no pool passes', node: node('bare'), passed: true },
  { name: 'a pool without migProfile passes anywhere', pool: agentPool('whole', { gpuRequirements: { count: 1 } }), node: node('bare'), passed: true },
  { name: 'a free slice of the profile', pool: triage, node: migNode('m', '1g.5gb:7,2g.10gb:3'), passed: true },
  { name: 'profiles compare case-insensitively', pool: agentPool('t', { migProfile: '2G.10GB' }), node: migNode('m', '2g.10gb:1'), passed: true },
  { name: 'mig-capable is read case-insensitively', pool: triage, node: migNode('m', '2g.10gb:1', 'True'), passed: true },
  {
    name: 'a node with no labels is not MIG-capable',
    pool: triage,
    node: node('bare', { gpus: 8 }),
    passed: false,
    unresolvable: true,
    reason:
      'needs a 2g.10gb MIG slice; node is not MIG-capable (no neuronetes.io/mig-capable or nvidia.com/mig.capable label, and no neuronetes.io/mig-config label, allocatable nvidia.com/mig-<profile> or nvidia.com/mig-<profile>.count label)',
  },
  {
    name: 'mig-capable "false" with a layout is still not MIG-capable',
    pool: triage,
    node: migNode('m', '2g.10gb:3', 'false'),
    passed: false,
    unresolvable: true,
  },
  {
    name: 'MIG-capable without a layout',
    pool: triage,
    node: migNode('m', undefined),
    passed: false,
    unresolvable: true,
    reason:
      'needs a 2g.10gb MIG slice; node is MIG-capable (neuronetes.io/mig-capable=true) but says nothing of its slices (no neuronetes.io/mig-config label, allocatable nvidia.com/mig-<profile> or nvidia.com/mig-<profile>.count label)',
  },
  {
    name: 'malformed layout',
    pool: triage,
    node: migNode('m', '2g.10gb=3'),
    passed: false,
    unresolvable: true,
    reason: 'needs a 2g.10gb MIG slice; neuronetes.io/mig-config "2g.10gb=3" is not profile:count,… (e.g. 1g.5gb:7,2g.10gb:3)',
  },
  {
    name: 'layout without the profile',
    pool: triage,
    node: migNode('m', '1g.5gb:7'),
    passed: false,
    unresolvable: true,
    reason: "needs a 2g.10gb MIG slice; node's MIG slices (1g.5gb:7) include none",
  },
  {
    name: 'all slices in use is a shortfall',
    pool: triage,
    node: migNode('m', '2g.10gb:2,3g.20gb:1'),
    pods: [pod('a', { node: 'm', mig: { '2g.10gb': 1 } }), pod('b', { node: 'm', mig: { '2g.10gb': 1 }, namespace: 'other' })],
    passed: false,
    unresolvable: false,
    reason: 'needs a 2g.10gb MIG slice; all 2 on the node are in use',
  },
  {
    name: 'slices of other profiles and of terminated pods are not in use',
    pool: triage,
    node: migNode('m', '2g.10gb:1,3g.20gb:1'),
    pods: [pod('a', { node: 'm', mig: { '3g.20gb': 1 } }), pod('done', { node: 'm', mig: { '2g.10gb': 1 }, phase: 'Succeeded' })],
    passed: true,
  },
];

t.test('filter', async (t) => {
  for (const c of cases) {
    const { ctx } = schedulerContext({ nodes: [c.node], pods: c.pods ?? [], pools: c.pool === undefined ? [] : [c.pool] });
    const v = verdict(plugin.filter(ctx, pod('p'), c.node, c.pool));
    t.equal(v.passed, c.passed, `${c.name}: passed`);
    if (c.unresolvable !== undefined) t.equal(v.unresolvable === true, c.unresolvable, `${c.name}: unresolvable`);
    if (c.reason !== undefined) t.equal(v.reason, c.reason, `${c.name}: reason`);
  }
});

t.test('parseMigConfig', async (t) => {
  t.same(
    parseMigConfig('1g.5gb:7, 2g.10gb:3'),
    new Map([
      ['1g.5gb', 7],
      ['2g.10gb', 3],
    ]),
  );
  t.same(parseMigConfig('1g.5gb+me:1'), new Map([['1g.5gb+me', 1]]));
  for (const bad of ['', '1g.5gb', '1g.5gb:x', '1g.5gb:7,', ':3']) t.equal(parseMigConfig(bad), undefined, JSON.stringify(bad));
});
