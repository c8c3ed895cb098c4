/**
 * Plugin modules that go wrong — will not import, throw while registering, register a name already
 * taken, or have a factory that throws — stop start-up with the module (or plugin) and the cause,
 * and on a hot reload leave the last good plugin set in force and nothing of themselves registered.
 * The modules are real files importing 'neuronetes', loaded through `plugins:` into the process's
 * registry, as the service loads them. That registry outlives each app, so every test uses its own
 * plugin names, and the tests whose modules load (and stay registered) run last.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { stringify } from 'yaml';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { getGlobalRegistry } from '../../src/plugins/registry.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';
import { namesArgs, node, pod } from '../helpers/cluster-fixtures.ts';
import { tempDir, type Teardown } from '../helpers/test-app.ts';

const root = join(import.meta.dirname, '..', '..');
const log = pino({ level: 'silent' });

/** A folder where modules can `import ... from 'neuronetes'`, as in a project that installed it. */
async function moduleDir(t: Teardown): Promise<string> {
  const dir = await tempDir(t, 'neuronetes-modules-');
  await mkdir(join(dir, 'node_modules'));
  await symlink(root, join(dir, 'node_modules', 'neuronetes'));
  return dir;
}

/** A module registering a filter that keeps only node `keep`. */
const filterModule = (name: string, keep = 'n1'): string => `
import { definePlugin, registerPlugin } from 'neuronetes';
registerPlugin(definePlugin({ type: 'scheduler', name: '${name}', create: () => ({ filter: (_c, _p, n) => n.metadata.name === '${keep}' }) }));
`;

async function start(dir: string, config: object): Promise<NeuroNetesApp> {
  await writeFile(join(dir, 'config.yaml'), stringify(config));
  const cluster = new SnapshotSource({
    log,
    watch: false,
    objects: { nodes: [node('n1'), node('n2')], pods: [], agentPools: [], agentClasses: [], models: [] },
  });
  return buildApp({ cluster, builtins: false, logger: log, configPath: join(dir, 'config.yaml'), watchConfig: false });
}

async function kept(app: NeuroNetesApp): Promise<string[]> {
  return (await app.inject({ method: 'POST', url: '/scheduler/filter', payload: namesArgs(pod('p'), ['n1', 'n2']) })).json().NodeNames;
}

t.test('a hot reload with a bad module keeps the last good set, and the module leaves nothing registered', async (t) => {
  const dir = await moduleDir(t);
  await writeFile(join(dir, 'gate.mjs'), filterModule('mf-gate'));
  const app = await start(dir, { plugins: ['./gate.mjs'] });
  t.teardown(() => app.close());
  await app.ready();
  t.same(await kept(app), ['n1'], 'the gate filters');

  await writeFile(join(dir, 'broken.mjs'), "import 'no-such-package';\n");
  await writeFile(join(dir, 'dup.mjs'), filterModule('mf-gate', 'n2'));
  await writeFile(join(dir, 'throws.mjs'), "throw new Error('not today');\n");
  // Registers one plugin, then fails: the half it registered must not outlive it.
  await writeFile(join(dir, 'half.mjs'), `${filterModule('mf-half', 'n2')}\nthrow new Error('second half failed');\n`);
  const cases: [string, RegExp][] = [
    ['./broken.mjs', /cannot load plugin module "\.\/broken\.mjs": Cannot find package 'no-such-package'/],
    ['./dup.mjs', /cannot load plugin module "\.\/dup\.mjs": duplicate scheduler plugin "mf-gate": already registered by \.\/gate\.mjs/],
    ['./throws.mjs', /cannot load plugin module "\.\/throws\.mjs": not today/],
    ['./half.mjs', /cannot load plugin module "\.\/half\.mjs": second half failed/],
  ];
  for (const [module, error] of cases) {
    await writeFile(join(dir, 'config.yaml'), stringify({ plugins: ['./gate.mjs', module] }));
    const result = await app.neuronetes.config.reload();
    t.equal(result.ok, false, module);
    t.match(result.error, error);
    t.same(await kept(app), ['n1'], `after ${module}, the last good set still filters`);
  }
  t.equal(getGlobalRegistry().get('scheduler', 'mf-half'), undefined, 'the failed module registered nothing that stays');
  await writeFile(join(dir, 'config.yaml'), stringify({ plugins: ['./gate.mjs'], 'scheduler-plugins': [{ name: 'mf-half' }] }));
  t.match((await app.neuronetes.config.reload()).error, /unknown plugin "mf-half"/);

  await writeFile(join(dir, 'config.yaml'), stringify({ plugins: ['./gate.mjs'], 'scheduler-plugins': [{ name: 'mf-gate', enabled: false }] }));
  t.same(await app.neuronetes.config.reload(), { ok: true }, 'a good config after the bad ones applies');
  t.same(await kept(app), ['n1', 'n2']);
});

t.test('start-up stops on a module that will not import, naming it and the cause', async (t) => {
  const dir = await moduleDir(t);
  await writeFile(join(dir, 'broken.mjs'), "import 'no-such-package';\n");
  await t.rejects(start(dir, { plugins: ['./broken.mjs'] }), {
    name: 'ConfigError',
    message: /^cannot load plugin module "\.\/broken\.mjs": Cannot find package 'no-such-package'/,
  });
  await writeFile(join(dir, 'syntax.mjs'), 'export const = 1;\n');
  await t.rejects(start(dir, { plugins: ['./syntax.mjs'] }), { message: /^cannot load plugin module "\.\/syntax\.mjs": Unexpected token/ });
  await t.rejects(start(dir, { plugins: ['./missing.mjs'] }), { message: /^cannot load plugin module "\.\/missing\.mjs": Cannot find module/ });
});

t.test('start-up stops on a module that throws while registering, naming the module, the plugin and the cause', async (t) => {
  const dir = await moduleDir(t);
  await writeFile(
    join(dir, 'bad-name.mjs'),
    "import { registerScheduler } from 'neuronetes';\nregisterScheduler({ name: () => 'Bad_Name', score: () => 1 });\n",
  );
  await t.rejects(start(dir, { plugins: ['./bad-name.mjs'] }), {
    message: /^cannot load plugin module "\.\/bad-name\.mjs": cannot register scheduler plugin: name\(\) returned "Bad_Name"/,
  });
  await writeFile(
    join(dir, 'no-method.mjs'),
    "import { registerGuardrail } from 'neuronetes';\nregisterGuardrail({ name: () => 'mf-no-check', getType: () => 'x' });\n",
  );
  await t.rejects(start(dir, { plugins: ['./no-method.mjs'] }), {
    message: /^cannot load plugin module "\.\/no-method\.mjs": guardrail plugin "mf-no-check" has no check\(\) method/,
  });
  await writeFile(join(dir, 'throws.mjs'), "throw new Error('no licence key in LICENCE_KEY');\n");
  await t.rejects(start(dir, { plugins: ['./throws.mjs'] }), { message: /^cannot load plugin module "\.\/throws\.mjs": no licence key in LICENCE_KEY/ });
});

t.test('start-up stops on a duplicate name, naming both modules', async (t) => {
  const dir = await moduleDir(t);
  await writeFile(join(dir, 'first.mjs'), filterModule('mf-twin'));
  await writeFile(join(dir, 'second.mjs'), filterModule('mf-twin'));
  await t.rejects(start(dir, { plugins: ['./first.mjs', './second.mjs'] }), {
    message: /^cannot load plugin module "\.\/second\.mjs": duplicate scheduler plugin "mf-twin": already registered by \.\/first\.mjs/,
  });
});

t.test('start-up stops on a factory that throws, naming the plugin, its module and the cause', async (t) => {
  const dir = await moduleDir(t);
  await writeFile(
    join(dir, 'explodes.mjs'),
    "import { definePlugin, registerPlugin } from 'neuronetes';\nregisterPlugin(definePlugin({ type: 'scheduler', name: 'mf-explodes', create: () => { throw new Error('boom'); } }));\n",
  );
  await t.rejects(start(dir, { plugins: ['./explodes.mjs'] }), {
    message: /scheduler plugin "mf-explodes" \(from \.\/explodes\.mjs\) could not be made: boom/,
  });
});
