/**
 * The package as a third party gets it: `npm pack` of a copy of this repository, installed into the
 * example plugin package, which compiles with `tsc` against the packed types and runs in the packed
 * service. By default the copy is compiled without type-checking (`npm run typecheck` does that) and
 * the packed package's dependencies are linked from this repository's node_modules; with
 * NEURONETES_TEST_PACKAGING=1 it is packed as `npm pack` does it (prepack: `npm run build`) and
 * installed with `npm ci --offline`, which takes a few times longer.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { stringify } from 'yaml';
import { tempDir } from '../helpers/test-app.ts';
import { offlineLock } from './offline-lock.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const example = join(root, 'examples', 'plugin-package');
const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command without NODE_OPTIONS: an installed package has no src/ for the neuronetes-source
 * condition to resolve to. Through env(1), as tap puts its NODE_OPTIONS back into every child's env.
 */
async function run(command: string, args: string[], cwd: string): Promise<Run> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await exec('env', ['-u', 'NODE_OPTIONS', command, ...args], { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    t.comment(`${command} ${args[0] ?? ''}: ${Math.round(performance.now() - started)} ms`);
    return { code: 0, stdout, stderr };
  } catch (e: unknown) {
    const err = e as { code: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message };
  }
}

/** Prioritizes three nodes with the packed service and the compiled plugin, and prints the answer. */
const SERVICE_SCRIPT = `
import { buildApp, SnapshotSource } from 'neuronetes';
import { pino } from 'pino';
const node = (name, zone) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } }, status: { allocatable: { cpu: '8' } } });
const log = pino({ level: 'silent' });
const cluster = new SnapshotSource({ log, watch: false, objects: { nodes: [node('a', 'zone-a'), node('b', 'zone-b'), node('c', 'zone-c')], pods: [], agentPools: [], agentClasses: [], models: [] } });
const app = await buildApp({ cluster, logger: log, builtins: false, configPath: process.argv[2] });
await app.ready();
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: { containers: [] } };
const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: { Pod: pod, NodeNames: ['a', 'b', 'c'] } });
process.stdout.write(JSON.stringify({ status: res.statusCode, body: res.json() }));
await app.close();
`;

const thorough = process.env['NEURONETES_TEST_PACKAGING'] === '1';
/** What the repository holds that a package is made from; the rest is built or installed. */
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', '.tap', 'coverage']);

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;

/** Links `names` from this repository's node_modules into `modules`, as an install would place them. */
async function linkFromRepo(modules: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await mkdir(join(modules, name, '..'), { recursive: true });
    await symlink(join(root, 'node_modules', name), join(modules, name));
  }
}

const npmMissing = (await run('npm', ['--version'], root)).code !== 0;

t.test(
  'a third-party plugin package builds against the packed tarball and runs in the packed service',
  { skip: npmMissing && 'npm is not on the PATH' },
  async (t) => {
    const dir = await tempDir(t, 'neuronetes-packaging-');

    // A copy, so neither the build nor the pack touches this repository's dist/.
    const stage = join(dir, 'neuronetes');
    for (const entry of await readdir(root)) if (!NOT_COPIED.has(entry)) await cp(join(root, entry), join(stage, entry), { recursive: true });
    await symlink(join(root, 'node_modules'), join(stage, 'node_modules'));
    if (!thorough) {
      const build = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--noCheck'], stage);
      t.equal(build.code, 0, `tsc -p tsconfig.build.json --noCheck: ${build.stdout}${build.stderr}`);
    }
    const pack = await run('npm', ['pack', '--json', '--pack-destination', dir, ...(thorough ? [] : ['--ignore-scripts'])], stage);
    t.equal(pack.code, 0, `npm pack: ${pack.stderr}`);
    const [{ filename, files }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    t.same(
      paths.filter((p) => /\.[cm]?ts$/.test(p) && !p.endsWith('.d.ts')),
      [],
      'no TypeScript sources',
    );
    t.same(
      paths.filter((p) => /(^|\/)test\/|\.test\./.test(p)),
      [],
      'no tests',
    );
    for (const p of [
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli.js',
      'dist/extenders/builtin/index.js',
      'dist/extenders/builtin/index.d.ts',
      'dist/extenders/examples/custom-scheduler.js',
      'examples/config/neuronetes.yaml',
      'examples/cluster/nodes.yaml',
      'manifests/deployment.yaml',
      'proto/externalscaler.proto',
      'scheduler-config/scheduler-config.yaml',
      'README.md',
    ]) {
      t.ok(paths.includes(p), `ships ${p}`);
    }

    const plugin = join(dir, 'plugin');
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'test', 'README.md'])
      await cp(join(example, f), join(plugin, f), { recursive: true });
    const manifest = await readJson<Manifest & { devDependencies: Record<string, string> }>(join(plugin, 'package.json'));
    const packed = await readJson<Manifest>(join(stage, 'package.json'));
    if (thorough) {
      // The published package would come from the registry; here it is the tarball just packed.
      manifest.devDependencies['neuronetes'] = `file:../${filename}`;
      await writeFile(join(plugin, 'package.json'), JSON.stringify(manifest, null, 2));
      const repoLock = await readJson<Parameters<typeof offlineLock>[4]>(join(root, 'package-lock.json'));
      await writeFile(
        join(plugin, 'package-lock.json'),
        JSON.stringify(await offlineLock(manifest, join(dir, filename), `file:../${filename}`, packed, repoLock)),
      );
      const install = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], plugin);
      if (install.code !== 0 && /ENOTCACHED/.test(install.stderr)) {
        return t.skip(
          `npm ci --offline: the npm cache lacks a package this repository's lock pins (one online \`npm ci\` fills it): ${install.stderr.split('\n')[0] ?? ''}`,
          () => {},
        );
      }
      t.equal(install.code, 0, `npm ci --offline: ${install.stderr}`);
    } else {
      const modules = join(plugin, 'node_modules');
      await mkdir(join(modules, 'neuronetes'), { recursive: true });
      const untar = await run('tar', ['-xzf', join(dir, filename), '-C', join(modules, 'neuronetes'), '--strip-components=1'], plugin);
      t.equal(untar.code, 0, `tar: ${untar.stderr}`);
      const others = Object.keys(manifest.devDependencies).filter((d) => d !== 'neuronetes' && packed.dependencies?.[d] === undefined);
      await linkFromRepo(modules, [...Object.keys(packed.dependencies ?? {}), ...others]);
    }

    const tsc = await run(process.execPath, [join(plugin, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], plugin);
    t.equal(tsc.code, 0, `tsc against the packed types: ${tsc.stdout}${tsc.stderr}`);
    const compiled = join(plugin, 'dist', 'index.js');
    const exported = (packed as Manifest & { exports?: Record<string, unknown> }).exports ?? {};
    if (exported['./testing'] === undefined) {
      t.skip("the package exports no neuronetes/testing yet: the example package's tests are neither compiled nor run", () => {});
    } else {
      const typecheck = await run(process.execPath, [join(plugin, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], plugin);
      t.equal(typecheck.code, 0, `tsc of the package's tests against the packed neuronetes/testing: ${typecheck.stdout}${typecheck.stderr}`);
      const tests = await run('npm', ['test'], plugin);
      t.equal(tests.code, 0, `npm test with the packed neuronetes/testing: ${tests.stdout}${tests.stderr}`);
      t.match(tests.stdout, /(#|ℹ) pass 2\b/);
    }

    const cli = join(plugin, 'node_modules', 'neuronetes', 'dist', 'src', 'cli.js');
    const shipped = join(plugin, 'node_modules', 'neuronetes', 'examples', 'config', 'neuronetes.yaml');
    const check = await run(process.execPath, [cli, 'check-config', '--config', shipped, '--plugins', compiled], plugin);
    t.equal(check.code, 0, `check-config with the compiled built-ins, examples and plugin: ${check.stderr}`);
    t.match(check.stdout, /valid; enabled plugins: \d+ scheduler/);

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, stringify({ plugins: [compiled], 'scheduler-plugins': [{ name: 'zone-preference', config: { zones: 'zone-a' } }] }));
    const refused = await run(process.execPath, [cli, 'check-config', '--config', bad], plugin);
    t.equal(refused.code, 1, 'a bad config of the third-party plugin fails check-config');
    t.match(refused.stderr, /zone-preference.*zones/);

    const good = join(dir, 'good.yaml');
    await writeFile(
      good,
      stringify({
        plugins: [compiled],
        scheduler: { wireScores: 'absolute' },
        'scheduler-plugins': [{ name: 'zone-preference', config: { zones: ['zone-b', 'zone-a'] } }],
      }),
    );
    await writeFile(join(plugin, 'service.mjs'), SERVICE_SCRIPT);
    const served = await run(process.execPath, [join(plugin, 'service.mjs'), good], plugin);
    t.equal(served.code, 0, `the packed service with the plugin: ${served.stderr}`);
    t.same(
      JSON.parse(served.stdout || '{}'),
      {
        status: 200,
        body: [
          { Host: 'a', Score: 5 },
          { Host: 'b', Score: 10 },
          { Host: 'c', Score: 0 },
        ],
      },
      'zone-b first, zone-a second, zone-c unlisted',
    );
  },
);
