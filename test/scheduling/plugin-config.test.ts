import t from 'tap';
import { Type } from 'typebox';
import { definePluginConfig, PositiveQuantity } from '../../extenders/builtin/scheduler/plugin-config.ts';
import { schedulerContext } from '../helpers/scheduling-fixtures.ts';

const read = definePluginConfig('demo', Type.Object({ mode: Type.Enum(['a', 'b']), size: PositiveQuantity, table: Type.Record(Type.String(), Type.Number()) }), {
  mode: 'a',
  size: '1Gi',
  table: {},
});

t.test('defaults when nothing is configured', async (t) => {
  const { ctx, warnings } = schedulerContext({}, {});
  t.same(read(ctx), { mode: 'a', size: '1Gi', table: {} });
  t.same(warnings, []);
});

t.test('valid keys apply, invalid ones fall back one by one', async (t) => {
  const { ctx, warnings } = schedulerContext({}, { mode: 'b', size: 'big', table: { x: 1, y: 'two' }, colour: 'red' });
  t.same(read(ctx), { mode: 'b', size: '1Gi', table: {} });
  t.equal(warnings.length, 1);
  t.match(warnings[0], /^demo config: /);
  t.match(warnings[0], /size must match pattern .* \(got "big"\); using the default "1Gi"/);
  t.match(warnings[0], /table\/y must be number \(got "two"\); using the default \{\}/);
  t.match(warnings[0], /unknown key "colour" ignored \(known keys: mode, size, table\)/);
});

t.test('read once per config object; a reloaded config is read again', async (t) => {
  const first = schedulerContext({}, { mode: 'zzz' });
  const a = read(first.ctx);
  t.equal(read(first.ctx), a, 'same object while the config stays');
  t.equal(first.warnings.length, 1, 'warned once');
  const reloaded = schedulerContext({}, { mode: 'b' });
  t.equal(read(reloaded.ctx).mode, 'b');
});

t.test('PositiveQuantity', async (t) => {
  const ok = definePluginConfig('q', Type.Object({ size: PositiveQuantity }), { size: '1' });
  for (const good of ['32Gi', '0.5Gi', '100M', '7', '1.5k']) t.equal(ok(schedulerContext({}, { size: good }).ctx).size, good, good);
  for (const bad of ['0', '0Gi', '-1Gi', '1e3', '1Gb', ' 1Gi', '', '500m']) t.equal(ok(schedulerContext({}, { size: bad }).ctx).size, '1', bad);
});
