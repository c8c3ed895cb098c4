/**
 * What `neuronetes plugin new` writes, for each plugin type, type-checks against this repository's
 * sources (as it would against the published types) and passes its own test unchanged.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import {
  checkPluginName,
  checkPluginType,
  pluginPackage,
  PLUGIN_TSCONFIG,
  PLUGIN_TSCONFIG_BUILD,
  writePluginPackage,
  type ScaffoldVersions,
} from '../../src/scaffold/plugin-package.ts';
import { PLUGIN_TYPES } from '../../src/plugins/types.ts';
import { neuronetes } from '../helpers/cli.ts';
import { tempDir } from '../helpers/test-app.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const example = join(root, 'examples', 'plugin-package');
/** The test kit may not be on this branch yet: then the packages' tests are neither checked nor run. */
const testing = join(root, 'src', 'testing', 'index.ts');
const hasTestKit = existsSync(testing);

const versions: ScaffoldVersions = { neuronetes: '^0.1.0', typebox: '^1.4.3', typescript: '5.9', typesNode: '^24.19.2' };

async function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (e: unknown) {
    const err = e as { code: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? err.message}` };
  }
}

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

t.test('every type, and the example package, type-check against the sources and pass their tests', async (t) => {
  const dir = await tempDir(t, 'neuronetes-plugin-new-');
  for (const type of PLUGIN_TYPES) await writePluginPackage(join(dir, type), pluginPackage(type, `my-${type}`, versions));
  // What `npm install` would provide: neuronetes (here, this repository) and the packages' other dependencies.
  await mkdir(join(dir, 'node_modules'));
  for (const name of ['typebox', '@types']) await symlink(join(root, 'node_modules', name), join(dir, 'node_modules', name));
  await symlink(root, join(dir, 'node_modules', 'neuronetes'));
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'test'])
    await cp(join(example, f), join(dir, 'example', f), { recursive: true });
  const folders = [...PLUGIN_TYPES.map((type) => join(dir, type)), join(dir, 'example')];
  const check = {
    extends: './scheduler/tsconfig.json',
    compilerOptions: {
      // This repository's sources, not a dist/ that may be stale or missing.
      paths: { neuronetes: [join(root, 'src', 'index.ts')], 'neuronetes/testing': [testing] },
      typeRoots: [join(dir, 'node_modules', '@types')],
    },
    include: folders.flatMap((f) => [join(f, 'src'), ...(hasTestKit ? [join(f, 'test')] : [])]),
  };
  await writeFile(join(dir, 'tsconfig.check.json'), JSON.stringify(check));
  const tsc = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.check.json'], dir);
  t.equal(tsc.code, 0, `tsc: ${tsc.output}`);

  if (!hasTestKit) return t.skip('neuronetes/testing (src/testing/index.ts) is not on this branch: the generated tests are not run', () => {});
  // npm test as written; NODE_OPTIONS (the test runner's) carries the neuronetes-source condition.
  const test = await run('npm', ['test'], join(dir, 'scheduler'));
  t.equal(test.code, 0, `npm test in the generated scheduler package: ${test.output}`);
  t.match(test.output, /(#|ℹ) pass 1\b/);
  const others = folders.filter((f) => !f.endsWith('scheduler')).map((f) => join(f, 'test', '*.test.ts'));
  // One process for all five (each would load the service's sources again): the file stays well inside tap's timeout.
  const rest = await run(process.execPath, ['--test', '--test-isolation=none', ...others], dir);
  t.equal(rest.code, 0, `the other packages' tests: ${rest.output}`);
  t.match(rest.output, /(#|ℹ) pass 7\b/, 'two tests of the example, two of the autoscaler, one of each other type');
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
