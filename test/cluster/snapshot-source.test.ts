import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { parseClusterYaml, SnapshotError, SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { agentPool, node, pod } from '../helpers/cluster-fixtures.ts';
import { tempDir } from '../helpers/test-app.ts';

const log = pino({ level: 'silent' });

t.test('parses kinds, Lists and pod owners; skips empty documents', async (t) => {
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'agents' } };
  const text = `${stringify({ apiVersion: 'v1', kind: 'List', items: [node('n1'), pod('p1', { nodeName: 'n1', gpus: 1 })] })}---\n---\n${stringify(agentPool('chat'))}---\n${stringify(rs)}`;
  const objects = parseClusterYaml([{ path: 'c.yaml', text }]);
  t.same(
    objects.nodes.map((n) => n.metadata.name),
    ['n1'],
  );
  t.same(
    objects.pods.map((p) => p.metadata.name),
    ['p1'],
  );
  t.same(
    objects.agentPools.map((p) => p.metadata.name),
    ['chat'],
  );
  t.same(
    objects.others?.map((o) => o.kind),
    ['ReplicaSet'],
  );
});

t.test('bad objects are errors naming the file, document and field', async (t) => {
  const cases: [string, RegExp][] = [
    ['kind: Node\nmetadata: {}\n', /c.yaml document 1: invalid Node: \/metadata must have required propert.*name/],
    ['- 1\n', /c.yaml document 1: expected a Kubernetes object/],
    ['metadata: {name: x}\n', /object has no kind/],
    ['kind: PodList\n', /PodList has no items/],
    [
      'kind: AgentPool\nmetadata: {name: p}\nspec: {agentClassRef: {name: c}, minReplicas: "1", maxReplicas: 2}\n',
      /invalid AgentPool: \/spec\/minReplicas must be integer/,
    ],
    ['kind: Node\nmetadata: {name: [\n', /not valid YAML/],
  ];
  for (const [text, message] of cases) t.throws(() => parseClusterYaml([{ path: 'c.yaml', text }]), message, text.trim());
  t.type(SnapshotError, 'function');
});

t.test('a change that does not parse keeps the last good picture', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cluster.yaml');
  await writeFile(file, stringify(node('n1')));
  const source = new SnapshotSource({ log, path: dir, watch: false });
  await source.start();
  t.teardown(() => source.close());
  const first = source.view();
  t.same(
    first.nodes().map((n) => n.metadata.name),
    ['n1'],
  );

  await writeFile(file, 'kind: Node\nmetadata: {}\n');
  t.equal(await source.reload(), false);
  t.equal(source.view(), first, 'the same picture is served');
  t.same(source.readiness(), { ready: true }, 'still ready: it has a good picture');

  await writeFile(file, `${stringify(node('n1'))}---\n${stringify(node('n2'))}`);
  t.equal(await source.reload(), true);
  t.same(
    source
      .view()
      .nodes()
      .map((n) => n.metadata.name),
    ['n1', 'n2'],
  );
  t.ok(source.view().version > first.version);
});

t.test('a snapshot that never loaded fails start() with the reason', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'bad.yaml'), 'kind: Pod\nmetadata: {name: 3}\n');
  const source = new SnapshotSource({ log, path: dir, watch: false });
  await t.rejects(source.start(), /invalid Pod: \/metadata\/name must be string/);
  t.match(source.readiness(), { ready: false, reason: /invalid Pod/ });
  await t.rejects(new SnapshotSource({ log }).start(), /needs a path or objects/);
});

t.test('watching: an edited file is picked up', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cluster.yaml');
  await writeFile(file, stringify(node('n1')));
  const source = new SnapshotSource({ log, path: dir, debounceMs: 20 });
  await source.start();
  t.teardown(() => source.close());
  const changed = new Promise<number>((resolve) => source.onChange((view) => resolve(view.nodes().length)));
  await writeFile(file, `${stringify(node('n1'))}---\n${stringify(node('n2'))}`);
  t.equal(await changed, 2);
});
