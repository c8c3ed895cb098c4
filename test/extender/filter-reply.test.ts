import t from 'tap';
import { Value } from 'typebox/value';
import { ExtenderFilterResult } from '../../src/api/extender.ts';
import { FilterReply } from '../../src/scheduling/filter-reply.ts';
import { namesArgs, node, nodesArgs, pod } from '../helpers/cluster-fixtures.ts';

const p = pod('chat-0', { pool: 'chat' });

t.test('names mode: kept names, failed nodes split by resolvability, reasons shared', async (t) => {
  const reply = new FilterReply(namesArgs(p, ['a', 'b', 'c', 'd']), [node('a')], ['a']);
  const busy = reply.reason({ wire: 'gpu-fit: needs 4 free GPUs', unresolvable: false });
  const wrong = reply.reason({ wire: 'gpu-fit: needs H100 GPUs, node has A100', unresolvable: true });
  reply.fail('b', busy);
  reply.fail('c', wrong);
  reply.fail('d', busy);
  const wire: unknown = JSON.parse(reply.wire().toString());
  t.ok(Value.Check(ExtenderFilterResult, wire), 'the text is an ExtenderFilterResult');
  t.same(wire, {
    Nodes: null,
    NodeNames: ['a'],
    FailedNodes: { b: 'gpu-fit: needs 4 free GPUs', d: 'gpu-fit: needs 4 free GPUs' },
    FailedAndUnresolvableNodes: { c: 'gpu-fit: needs H100 GPUs, node has A100' },
    Error: '',
  });
  t.equal(reply.keptCount, 1);
});

t.test('full-node mode: the request NodeList comes back with only the kept items', async (t) => {
  const nodes = [node('a', { zone: 'z1' }), node('b')];
  const args = nodesArgs(p, nodes);
  const reply = new FilterReply(args, nodes.slice(0, 1), ['a']);
  reply.fail('b', reply.reason({ wire: 'x: no', unresolvable: false }));
  const wire = JSON.parse(reply.wire().toString()) as { Nodes: unknown; NodeNames: unknown };
  t.same(wire.Nodes, { apiVersion: 'v1', kind: 'NodeList', items: [nodes[0]] });
  t.equal(wire.NodeNames, null);
});

t.test('names and reasons are escaped: quotes, backslashes, newlines and non-ASCII survive', async (t) => {
  const odd = 'node "quoted" \\ back\nslash ü 节点 🚀 \ud800';
  const reply = new FilterReply(namesArgs(p, [odd]), [], [], 'plugin "x" failed:\n\u0001');
  reply.fail(odd, reply.reason({ wire: 'p: needs "8×H100" \\ ok\u2028', unresolvable: true }));
  const wire = JSON.parse(reply.wire().toString()) as { FailedAndUnresolvableNodes: Record<string, string>; Error: string };
  t.same(wire.FailedAndUnresolvableNodes, { [odd]: 'p: needs "8×H100" \\ ok\u2028' });
  t.equal(wire.Error, 'plugin "x" failed:\n\u0001');
});

t.test('no failures: empty maps, not missing ones', async (t) => {
  const wire = JSON.parse(new FilterReply(namesArgs(p, []), [], []).wire().toString()) as Record<string, unknown>;
  t.same(wire, { Nodes: null, NodeNames: [], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
});

t.test('thousands of entries, names of every width: the same object JSON.stringify would give', async (t) => {
  const names = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `gpu-${i}` : i % 3 === 1 ? `ノード-${i}` : `n"${i}"😀`));
  const reply = new FilterReply(namesArgs(p, names), [], []);
  const reasons = [reply.reason({ wire: 'a: busy', unresolvable: false }), reply.reason({ wire: 'b: wrong type — H100', unresolvable: true })];
  const expected = { FailedNodes: {} as Record<string, string>, FailedAndUnresolvableNodes: {} as Record<string, string> };
  names.forEach((name, i) => {
    const r = i % 5 === 0 ? 1 : 0;
    reply.fail(name, reasons[r] as number);
    (r === 1 ? expected.FailedAndUnresolvableNodes : expected.FailedNodes)[name] = r === 1 ? 'b: wrong type — H100' : 'a: busy';
  });
  const bytes = reply.wire();
  const wire = JSON.parse(bytes.toString()) as typeof expected;
  t.same(wire.FailedNodes, expected.FailedNodes);
  t.same(wire.FailedAndUnresolvableNodes, expected.FailedAndUnresolvableNodes);
  t.equal(bytes.length, Buffer.byteLength(JSON.stringify({ Nodes: null, NodeNames: [], ...expected, Error: '' })), 'no byte more or less than JSON.stringify');
});
