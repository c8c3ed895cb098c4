import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import '../../extenders/builtin/index.ts';
import { parseConfigText, resolveConfig } from '../../src/config/parse-config.ts';
import { resolvePluginSettings } from '../../src/config/plugin-settings.ts';
import type { PluginSettings } from '../../src/config/schema.ts';
import { PluginSet } from '../../src/plugins/plugin-set.ts';
import { getGlobalRegistry } from '../../src/plugins/registry.ts';
import { PLUGIN_TYPES, type PluginType } from '../../src/plugins/types.ts';

const root = join(import.meta.dirname, '..', '..');

/** A plugin's settings with its definition's (or the built-in) defaults, as PluginSet.build resolves them. */
const settingsOf = (type: PluginType, name: string, entry?: PluginSettings) =>
  resolvePluginSettings(entry, getGlobalRegistry().get(type, name)?.definition.defaults, entry?.config ?? {});

t.test('with no config, the built-ins run with the documented weights and timeouts', async (t) => {
  const set = PluginSet.build(getGlobalRegistry(), resolveConfig({}), pino({ level: 'silent' }));
  const weights = Object.fromEntries(set.enabled('scheduler').map((p) => [p.name, p.settings.weight]));
  t.same(weights, {
    'node-selector': 1,
    cost: 15,
    topology: 25,
    mig: 1,
    'gpu-fit': 30,
    'model-cache': 20,
    'data-locality': 10,
    'pool-spread': 5,
    'pool-priority': 1,
  });
  for (const loader of ['file', 'https', 's3'])
    t.equal(set.all('model-loader').find((p) => p.name === loader)?.settings.timeoutMs, 30 * 60_000, `${loader}: 30m`);
  t.same(
    set.enabled('metrics-provider').map((p) => p.name),
    ['static'],
    'prometheus (no URL) and pods (no port) are off',
  );
  const prometheus = set.all('metrics-provider').find((p) => p.name === 'prometheus');
  t.match(prometheus?.settings, { enabled: false, off: /^off until config\.url is set \(the Prometheus base URL/ });
});

t.test('a config entry wins over the built-in default, which wins over the general one', async (t) => {
  t.equal(settingsOf('scheduler', 'gpu-fit', { name: 'gpu-fit', priority: 10 }).weight, 30, 'listed without a weight: the documented one');
  t.equal(settingsOf('scheduler', 'gpu-fit', { name: 'gpu-fit', weight: 0 }).weight, 0, 'an explicit 0 is kept');
  t.equal(settingsOf('scheduler', 'my-plugin').weight, 1, 'not a built-in: weight 1');
  t.equal(settingsOf('scheduler', 'toString').weight, 1, 'names are looked up as own keys only');
  t.equal(settingsOf('model-loader', 'https', { name: 'https', timeout: '2m' }).timeoutMs, 120_000);
  t.match(settingsOf('metrics-provider', 'pods', { name: 'pods', enabled: true }), { enabled: false, off: /^off until config\.port is set/ });
  t.equal(settingsOf('metrics-provider', 'pods', { name: 'pods', config: { port: 8000 } }).enabled, true, 'pods: on once it knows the port');
});

t.test('prometheus stays off until it has a URL, whatever enabled says', async (t) => {
  const url = 'http://prometheus:9090';
  t.match(settingsOf('metrics-provider', 'prometheus', { name: 'prometheus', enabled: true }), { enabled: false, off: /config\.url/ });
  t.match(settingsOf('metrics-provider', 'prometheus', { name: 'prometheus', config: { url: '' } }), { enabled: false, off: /config\.url/ });
  const on = settingsOf('metrics-provider', 'prometheus', { name: 'prometheus', config: { url } });
  t.equal(on.enabled, true);
  t.equal(on.off, undefined);
  const off = settingsOf('metrics-provider', 'prometheus', { name: 'prometheus', enabled: false });
  t.same([off.enabled, off.off], [false, undefined], 'turned off by the config: nothing to explain');
});

t.test('the shipped config spells out the same defaults for every built-in', async (t) => {
  const shipped = parseConfigText(await readFile(join(root, 'examples', 'config', 'neuronetes.yaml'), 'utf8'));
  for (const type of PLUGIN_TYPES) {
    for (const r of getGlobalRegistry().entries(type)) {
      const listed = shipped.plugins[type].get(r.name);
      if (listed === undefined) continue;
      const defaults = settingsOf(type, r.name);
      const written = settingsOf(type, r.name, listed);
      const pick = (s: typeof defaults) => ({ enabled: s.enabled, weight: s.weight, timeoutMs: s.timeoutMs, failurePolicy: s.failurePolicy, mode: s.mode });
      t.same(pick(written), pick(defaults), `${type} ${r.name}`);
      t.equal(listed.priority ?? r.priority, r.priority, `${type} ${r.name}: priority`);
    }
  }
});
