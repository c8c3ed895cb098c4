/**
 * What `neuronetes plugin new` writes, and how it refuses bad input. That the packages build and pass
 * their tests: generated-typecheck.test.ts and generated-tests.test.ts.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import {
  checkPluginName,
  checkPluginType,
  pluginPackage,
  PLUGIN_TSCONFIG,
  PLUGIN_TSCONFIG_BUILD,
  writePluginPackage,
} from '../../src/scaffold/plugin-package.ts';
import { neuronetes } from '../helpers/cli.ts';
import { tempDir } from '../helpers/test-app.ts';
import { EXAMPLE as example, ROOT as root, VERSIONS as versions } from './generated-packages.ts';

t.test('the example package uses the TypeScript settings plugin new writes', async (t) => {
  t.same(JSON.parse(await readFile(join(example, 'tsconfig.json'), 'utf8')), PLUGIN_TSCONFIG);
  t.same(JSON.parse(await readFile(join(example, 'tsconfig.build.json'), 'utf8')), PLUGIN_TSCONFIG_BUILD);
});

t.test('each generated package names its plugin, its type and the versions asked for', async (t) => {
  const files = pluginPackage('model-loader', 'disk-cache.v2', versions);
  t.same([...files.keys()], ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src/index.ts', 'test/disk-cache.v2.test.ts', 'README.md']);
  const manifest = JSON.parse(files.get('package.json') ?? '{}') as { name: string; peerDependencies: Record<string, string> };
  t.equal(manifest.name, 'neuronetes-disk-cache.v2');
  t.same(manifest.peerDependencies, { neuronetes: '^0.1.0', typebox: '^1.4.3' });
  t.match(files.get('src/index.ts'), /export const diskCacheV2 = definePlugin\(\{\n {2}type: 'model-loader',\n {2}name: 'disk-cache.v2',/);
  t.match(files.get('test/disk-cache.v2.test.ts'), /import \{ diskCacheV2 \} from '\.\.\/src\/index\.ts';/);
  t.match(files.get('README.md'), /model-loader-plugins:\n {2}- name: disk-cache.v2/);
});

t.test('the type must be one of the five, the name one the registry accepts', async (t) => {
  t.equal(checkPluginType('metrics-provider'), 'metrics-provider');
  t.throws(() => checkPluginType('schedular'), {
    name: 'ScaffoldError',
    message: 'plugin type must be one of scheduler, autoscaler, model-loader, guardrail, metrics-provider, not "schedular"',
  });
  t.throws(() => checkPluginType(undefined), { message: /, not ""$/ });
  t.equal(checkPluginName('gpu-fit.v2'), 'gpu-fit.v2');
  for (const bad of ['My_Plugin', '-lead', 'trail.', 'x'.repeat(64), '', undefined]) {
    t.throws(() => checkPluginName(bad), { name: 'ScaffoldError', message: /is not valid: use lower-case letters, digits, '-' or '\.'/ }, String(bad));
  }
});

t.test('a package is written only into a missing or empty folder', async (t) => {
  const dir = await tempDir(t);
  await writePluginPackage(join(dir, 'new', 'deeper'), pluginPackage('guardrail', 'words', versions));
  t.ok(existsSync(join(dir, 'new', 'deeper', 'src', 'index.ts')), 'a missing folder is made');
  await t.rejects(writePluginPackage(join(dir, 'new', 'deeper'), pluginPackage('guardrail', 'words', versions)), {
    name: 'ScaffoldError',
    message: /deeper is not empty/,
  });
});

t.test('plugin new writes a package, refuses a folder in use and an unknown subcommand', async (t) => {
  const dir = await tempDir(t);
  const target = join(dir, 'pkg');
  const ok = await neuronetes('plugin', 'new', 'guardrail', 'no-secrets', '--dir', target);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /wrote guardrail plugin "no-secrets" to .*pkg/);
  const manifest = JSON.parse(await readFile(join(target, 'package.json'), 'utf8')) as { name: string; peerDependencies: Record<string, string> };
  const own = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
  t.equal(manifest.name, 'neuronetes-no-secrets');
  t.same(manifest.peerDependencies, { neuronetes: `^${own.version}`, typebox: own.dependencies['typebox'] }, 'the running neuronetes and its TypeBox');
  t.match(await readFile(join(target, 'src', 'index.ts'), 'utf8'), /type: 'guardrail',\n {2}name: 'no-secrets',/);
  t.match(await readFile(join(target, 'test', 'no-secrets.test.ts'), 'utf8'), /from 'neuronetes\/testing'/);

  const again = await neuronetes('plugin', 'new', 'guardrail', 'no-secrets', '--dir', target);
  t.equal(again.code, 1);
  t.match(again.stderr, /pkg is not empty; give a new folder with --dir/);
  const sub = await neuronetes('plugin', 'make', 'scheduler', 'x');
  t.equal(sub.code, 2);
  t.match(sub.stderr, /unknown plugin command "make"[\s\S]*usage: neuronetes plugin new <type> <name> \[--dir <path>\]/);
  t.same(await readdir(dir), ['pkg'], 'nothing written on an error');
});
