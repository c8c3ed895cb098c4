import { pino } from 'pino';
import t from 'tap';
import { Type } from 'typebox';
import { resolveConfig } from '../../src/config/parse-config.ts';
import { definePlugin } from '../../src/plugins/definition.ts';
import { PluginSet } from '../../src/plugins/plugin-set.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';

const silent = pino({ level: 'silent' });

function packer(made: string[] = []) {
  return definePlugin({
    type: 'scheduler',
    name: 'packer',
    priority: 7,
    config: Type.Object(
      {
        strategy: Type.Enum(['pack', 'spread'], { default: 'pack' }),
        costPerHour: Type.Number({ minimum: 0, default: 3 }),
        labels: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
      },
      { additionalProperties: false },
    ),
    defaults: { weight: 12 },
    create(config) {
      made.push(config.strategy);
      return { score: () => (config.strategy === 'pack' ? 90 : 10) };
    },
  });
}

const build = (r: PluginRegistry, config: Record<string, unknown>) => PluginSet.build(r, resolveConfig(config), silent);

t.test('a definition gets its validated config with defaults, and its own setting defaults', async (t) => {
  const r = new PluginRegistry();
  r.define(packer());
  const set = build(r, { 'scheduler-plugins': [{ name: 'packer', config: { strategy: 'spread' } }] });
  const [active] = set.enabled('scheduler');
  t.same(active?.settings.config, { strategy: 'spread', costPerHour: 3, labels: [] });
  t.equal(active?.settings.weight, 12);
  t.equal(active?.priority, 7);
  t.equal(active?.plugin.name(), 'packer', 'name() comes from the definition');
  t.equal(active?.plugin.priority?.(), 7);
  t.equal(active?.plugin.score?.({} as never, {} as never, {} as never, undefined), 10);
});

t.test('every bad setting is rejected with the plugin, key, value and what is allowed', async (t) => {
  const r = new PluginRegistry();
  r.define(packer());
  const bad = { 'scheduler-plugins': [{ name: 'packer', config: { strategy: 'bogus', costPerHour: -3, labels: [''], typo: 1 } }] };
  const error = t.throws(() => build(r, bad)) as Error;
  t.equal(error.name, 'ConfigError');
  t.match(error.message, 'scheduler-plugins "packer": config.strategy is "bogus"; allowed values: "pack", "spread"');
  t.match(error.message, 'config.costPerHour is -3; it must be >= 0');
  t.match(error.message, 'config.labels[0] is ""');
  t.match(error.message, 'config.typo is not a setting of this plugin; known keys: strategy, costPerHour, labels');
});

t.test('an unchanged config keeps the instance; a changed one makes a new one', async (t) => {
  const made: string[] = [];
  const r = new PluginRegistry();
  r.define(packer(made));
  const first = build(r, { 'scheduler-plugins': [{ name: 'packer', config: { strategy: 'spread' } }] });
  const again = build(r, { 'scheduler-plugins': [{ name: 'packer', config: { strategy: 'spread' } }] });
  t.equal(again.enabled('scheduler')[0]?.plugin, first.enabled('scheduler')[0]?.plugin);
  build(r, { 'scheduler-plugins': [{ name: 'packer', config: { strategy: 'pack' } }] });
  t.same(made, ['spread', 'pack']);
});

t.test('a factory that throws, or makes something without the methods, names the plugin and the cause', async (t) => {
  const r = new PluginRegistry();
  r.define(
    {
      type: 'guardrail',
      name: 'broken',
      create: () => {
        throw new Error('no model file');
      },
    },
    'my-package',
  );
  r.define({ type: 'guardrail', name: 'empty', create: () => ({}) as never });
  const error = t.throws(() => build(r, {})) as Error;
  t.match(error.message, 'guardrail plugin "broken" (from my-package) could not be made: no model file');
  t.match(error.message, 'guardrail plugin "empty" (from code) could not be made: guardrail plugin "empty" has no check() method');
});

t.test('definitions are checked at registration', async (t) => {
  const r = new PluginRegistry();
  t.throws(() => r.define({ type: 'shceduler', name: 'x', create: () => ({}) } as never), /type "shceduler" is none of scheduler, autoscaler/);
  t.throws(() => r.define({ type: 'scheduler', name: 'Bad Name', create: () => ({}) } as never), /use lower-case letters/);
  t.throws(() => r.define({ type: 'scheduler', name: 'x' } as never), /has no create\(\) factory/);
  r.define(packer());
  t.throws(() => r.define(packer()), /duplicate scheduler plugin "packer"/);
});

t.test('a guide-style instance still registers, and getSchedulers() lists factory plugins too', async (t) => {
  const r = new PluginRegistry();
  r.define(packer());
  r.register('scheduler', { name: () => 'plain', filter: () => true });
  t.same(
    r.getSchedulers().map((p) => [p.name(), p.priority?.() ?? 100]),
    [
      ['plain', 100],
      ['packer', 7],
    ],
  );
  const set = build(r, { 'scheduler-plugins': [{ name: 'plain', config: { anything: 'goes' } }] });
  t.same(set.all('scheduler').find((p) => p.name === 'plain')?.settings.config, { anything: 'goes' }, 'no schema: the block is passed as written');
});

t.test('getSchedulers() makes a definition with its schema defaults, and says which plugin needs a config', async (t) => {
  const made: string[] = [];
  const r = new PluginRegistry();
  r.define(packer(made));
  t.equal(r.getSchedulers()[0]?.score?.({} as never, {} as never, {} as never, undefined), 90, 'strategy defaulted to pack');
  t.same(made, ['pack']);
  const needy = new PluginRegistry();
  needy.define(
    definePlugin({
      type: 'guardrail',
      name: 'needy',
      config: Type.Object({ endpoint: Type.String() }),
      create: () => ({ check: () => ({ passed: true, action: 'allow' as const }), getType: () => 'x' }),
    }),
  );
  t.throws(
    () => needy.getGuardrails(),
    /guardrail plugin "needy" cannot be made without a config: config.endpoint is not set, and the plugin has no default for it/,
  );
});
