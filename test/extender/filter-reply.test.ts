import t from 'tap';
import { Value } from 'typebox/value';
import { ExtenderFilterResult } from '../../src/api/extender.ts';
import type { Node } from '../../src/api/kubernetes.ts';
import { FilterReply, NOT_REJECTED, type FailureReason, type FilterReplyParts } from '../../src/scheduling/filter-reply.ts';
import { namesArgs, node, nodesArgs, pod } from '../helpers/cluster-fixtures.ts';

const p = pod('chat-0', { pool: 'chat' });
const busy: FailureReason = { wire: 'gpu-fit: needs 4 free GPUs', unresolvable: false };
const wrong: FailureReason = { wire: 'gpu-fit: needs H100 GPUs, node has A100', unresolvable: true };
const notCached = (name: string): string => `${name} is not cached`;

function reply(names: string[], rejectedAs: number[], rejections: FailureReason[], parts: Partial<FilterReplyParts> = {}): FilterReply {
  return new FilterReply({
    args: namesArgs(p, names),
    kept: [],
    verdicts: { names, rejectedAs: Int32Array.from(rejectedAs), rejections },
    unknown: [],
    unknownReason: notCached,
    ...parts,
  });
}

const decode = (r: FilterReply): unknown => JSON.parse(r.wire().toString());

t.test('names mode: kept names, failed nodes split by resolvability, reasons shared, unknown names failed', async (t) => {
  const r = reply(['a', 'b', 'c', 'd'], [NOT_REJECTED, 0, 1, 0], [busy, wrong], { kept: [node('a')], unknown: ['ghost'] });
  const wire = decode(r);
  t.ok(Value.Check(ExtenderFilterResult, wire), 'the text is an ExtenderFilterResult');
  t.same(wire, {
    Nodes: null,
    NodeNames: ['a'],
    FailedNodes: { b: busy.wire, d: busy.wire, ghost: 'ghost is not cached' },
    FailedAndUnresolvableNodes: { c: wrong.wire },
    Error: '',
  });
  t.equal(r.keptCount, 1);
});

t.test('full-node mode: the request NodeList comes back with only the kept items', async (t) => {
  const nodes = [node('a', { zone: 'z1' }), node('b')];
  const r = new FilterReply({
    args: nodesArgs(p, nodes),
    kept: nodes.slice(0, 1),
    verdicts: { names: ['a', 'b'], rejectedAs: Int32Array.from([NOT_REJECTED, 0]), rejections: [{ wire: 'x: no', unresolvable: false }] },
    unknown: [],
    unknownReason: notCached,
  });
  const wire = decode(r) as { Nodes: unknown; NodeNames: unknown; FailedNodes: unknown };
  t.same(wire.Nodes, { apiVersion: 'v1', kind: 'NodeList', items: [nodes[0]] });
  t.equal(wire.NodeNames, null);
  t.same(wire.FailedNodes, { b: 'x: no' });
});

t.test('full-node mode: a NodeList of items alone, every node kept or none, stays a NodeList', async (t) => {
  const nodes = [node('a', { zone: 'z1' }), node('b')];
  const full = (kept: Node[]): unknown =>
    decode(
      new FilterReply({
        args: { Pod: p, Nodes: { items: nodes }, NodeNames: null },
        kept,
        verdicts: { names: ['a', 'b'], rejectedAs: Int32Array.from(nodes.map((n) => (kept.includes(n) ? NOT_REJECTED : 0))), rejections: [busy] },
        unknown: [],
        unknownReason: notCached,
      }),
    );
  t.same((full(nodes) as { Nodes: unknown }).Nodes, { items: nodes });
  const none = full([]) as { Nodes: unknown; FailedNodes: unknown };
  t.same(none.Nodes, { items: [] });
  t.same(none.FailedNodes, { a: busy.wire, b: busy.wire });
  t.ok(Value.Check(ExtenderFilterResult, none), 'the text is an ExtenderFilterResult');
});

t.test('names and reasons are escaped: quotes, backslashes, newlines and non-ASCII survive', async (t) => {
  const odd = 'node "quoted" \\ back\nslash ü 节点 🚀 \ud800';
  const r = reply([odd], [0], [{ wire: 'p: needs "8×H100" \\ ok\u2028', unresolvable: true }], { error: 'plugin "x" failed:\n\u0001', unknown: ['ghost"\n'] });
  const wire = decode(r) as { FailedNodes: Record<string, string>; FailedAndUnresolvableNodes: Record<string, string>; Error: string };
  t.same(wire.FailedAndUnresolvableNodes, { [odd]: 'p: needs "8×H100" \\ ok\u2028' });
  t.same(wire.FailedNodes, { 'ghost"\n': 'ghost"\n is not cached' });
  t.equal(wire.Error, 'plugin "x" failed:\n\u0001');
});

t.test('no failures: empty maps, not missing ones', async (t) => {
  t.same(decode(reply([], [], [])), { Nodes: null, NodeNames: [], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
});

t.test('thousands of entries, names of every width: the same object JSON.stringify would give', async (t) => {
  const names = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `gpu-${i}` : i % 3 === 1 ? `ノード-${i}` : `n"${i}"😀`));
  const both = [busy, { wire: 'b: wrong type — H100', unresolvable: true }];
  const expected = { FailedNodes: {} as Record<string, string>, FailedAndUnresolvableNodes: {} as Record<string, string> };
  const rejectedAs = names.map((name, i) => {
    const r = i % 5 === 0 ? 1 : 0;
    (r === 1 ? expected.FailedAndUnresolvableNodes : expected.FailedNodes)[name] = (both[r] as FailureReason).wire;
    return r;
  });
  const bytes = reply(names, rejectedAs, both).wire();
  const wire = JSON.parse(bytes.toString()) as typeof expected;
  t.same(wire.FailedNodes, expected.FailedNodes);
  t.same(wire.FailedAndUnresolvableNodes, expected.FailedAndUnresolvableNodes);
  t.equal(bytes.length, Buffer.byteLength(JSON.stringify({ Nodes: null, NodeNames: [], ...expected, Error: '' })), 'no byte more or less than JSON.stringify');
});

t.test('keptCount counts the kept Node objects', async (t) => {
  const kept: Node[] = [node('a'), node('b')];
  t.equal(reply(['a', 'b'], [NOT_REJECTED, NOT_REJECTED], [], { kept }).keptCount, 2);
});
