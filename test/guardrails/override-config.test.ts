/** PluginSet.withConfig: an AgentClass's per-guardrail config, checked against the plugin's schema. */
import { pino } from 'pino';
import t from 'tap';
import { Type } from 'typebox';
import { resolveConfig } from '../../src/config/parse-config.ts';
import { definePlugin } from '../../src/plugins/definition.ts';
import { PluginSet } from '../../src/plugins/plugin-set.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';

t.test('an override is merged, converted from the CRD strings, validated, and made once per override object', async (t) => {
  const made: number[] = [];
  const r = new PluginRegistry();
  r.define(
    definePlugin({
      type: 'guardrail',
      name: 'limit',
      config: Type.Object(
        { max: Type.Integer({ minimum: 1, default: 100 }), action: Type.Enum(['block', 'warn'], { default: 'block' }) },
        { additionalProperties: false },
      ),
      create(config) {
        made.push(config.max);
        return {
          getType: () => 'limit',
          check: (_ctx, req) => ({ passed: req.content.length <= config.max, action: req.content.length <= config.max ? 'allow' : config.action }),
        };
      },
    }),
  );
  const set = PluginSet.build(r, resolveConfig({ 'guardrail-plugins': [{ name: 'limit', config: { action: 'warn' } }] }), pino({ level: 'silent' }));
  const [active] = set.enabled('guardrail');
  if (active === undefined) throw new Error('no guardrail');
  const overrides = { max: '5' };
  const tight = set.withConfig(active, overrides);
  t.ok(tight.ok);
  if (!tight.ok) return;
  t.same(tight.active.settings.config, { max: 5, action: 'warn' }, 'the plugin config underneath, "5" read as 5');
  t.not(tight.active.plugin, active.plugin, 'a new instance for the new config');
  t.same(made, [100, 5]);
  t.equal(set.withConfig(active, overrides), tight, 'the same override object: the same answer, nothing made again');
  t.same(overrides, { max: '5' }, 'the AgentClass object is left as it was');

  const bad = set.withConfig(active, { max: 'five', colour: 'red' });
  t.notOk(bad.ok);
  if (bad.ok) return;
  t.match(bad.problems.join('; '), /config\.colour is not a setting of this plugin; known keys: max, action/);
  t.match(bad.problems.join('; '), /config\.max is "five"; it must be integer/);
});
