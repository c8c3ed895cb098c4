import t from 'tap';
import { JsonBytes } from '../../src/api/json-bytes.ts';

t.test('grows past its size hint and writes exactly what JSON.stringify would', async (t) => {
  const values = Array.from({ length: 2000 }, (_, i) =>
    i % 4 === 0 ? `plain-${i}` : i % 4 === 1 ? `quote"${i}\\` : i % 4 === 2 ? `ünïcödé ノード ${i} 🚀` : `ctl\n\t\u0001\ud800${i}`,
  );
  const out = new JsonBytes(8).raw('[');
  values.forEach((v, i) => out.raw(i === 0 ? '' : ',').string(v));
  const bytes = out.raw(']').done();
  t.equal(bytes.toString(), JSON.stringify(values));
});

t.test('bytes() copies pre-encoded JSON in place', async (t) => {
  const reason = Buffer.from(':"needs 2×H100"');
  const bytes = new JsonBytes(4).raw('{').string('n1').bytes(reason).raw(',').string('n2').bytes(reason).raw('}').done();
  t.same(JSON.parse(bytes.toString()), { n1: 'needs 2×H100', n2: 'needs 2×H100' });
});
