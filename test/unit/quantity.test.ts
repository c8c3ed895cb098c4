import t from 'tap';
import { parseQuantity, QuantityError, tryParseQuantity } from '../../src/util/quantity.ts';

t.test('parses Kubernetes quantities', async (t) => {
  const cases: [string | number, number][] = [
    ['40Gi', 40 * 2 ** 30],
    ['100G', 100e9],
    ['1.5', 1.5],
    ['500m', 0.5],
    ['2Ki', 2048],
    ['1e3', 1000],
    ['.5', 0.5],
    [8, 8],
    ['+3', 3],
  ];
  for (const [input, want] of cases) t.equal(parseQuantity(input), want, String(input));
});

t.test('rejects malformed quantities', async (t) => {
  for (const bad of ['', 'lots', '40 Gi', '40gi', ' 40Gi', '4.0.0', 'Gi']) t.throws(() => parseQuantity(bad), QuantityError, JSON.stringify(bad));
  t.throws(() => parseQuantity(Number.NaN), QuantityError);
  t.equal(tryParseQuantity('lots'), undefined);
  t.equal(tryParseQuantity(undefined), undefined);
  t.equal(tryParseQuantity('1Ki'), 1024);
});
