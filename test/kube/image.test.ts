/**
 * The image the manifests run is the one `npm run image` builds, and the Dockerfile's build stage
 * works: no Docker engine is needed for either check. The build itself (tsc, then the runtime's
 * entry point on the built files) takes minutes on a busy machine, so it runs with
 * NEURONETES_TEST_IMAGE_BUILD=1.
 */
import { execFile } from 'node:child_process';
import { cp, readFile, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { tempDir } from '../helpers/test-app.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
const IMAGE = `neuronetes/neuronetes:${pkg.version}`;

/** `COPY a b dest` lines that read the build context (not --from another stage), per stage. */
function contextCopies(): { stage: string; sources: string[] }[] {
  const copies: { stage: string; sources: string[] }[] = [];
  let stage = '';
  for (const line of dockerfile.split('\n')) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from !== null) stage = from[1] ?? 'runtime';
    const copy = /^COPY\s+(?!--from)(.+)$/i.exec(line);
    if (copy !== null) copies.push({ stage, sources: (copy[1] as string).trim().split(/\s+/).slice(0, -1) });
  }
  return copies;
}

t.test('npm run image tags the image every manifest runs', async (t) => {
  t.equal(pkg.scripts['image'], 'docker build -t neuronetes/neuronetes:$npm_package_version .');
  const images: string[] = [];
  for (const file of ['deployment.yaml', 'daemonset-agent.yaml']) {
    for (const doc of parseAllDocuments(await readFile(join(root, 'manifests', file), 'utf8'))) {
      const spec = doc.toJS() as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } };
      for (const c of spec.spec?.template?.spec?.containers ?? []) if (c.image !== undefined) images.push(c.image);
    }
  }
  t.ok(images.length >= 2, 'the extender and the agent');
  t.same([...new Set(images)], [IMAGE]);
});

t.test('everything the Dockerfile copies from the build context is there, and not dockerignored', async (t) => {
  const ignored = (await readFile(join(root, '.dockerignore'), 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const copies = contextCopies();
  t.ok(copies.length > 0);
  for (const { stage, sources } of copies) {
    for (const source of sources) {
      t.ok(
        await stat(join(root, source)).then(
          () => true,
          () => false,
        ),
        `${stage}: ${source} exists`,
      );
      t.notOk(ignored.includes(source), `${stage}: ${source} is not in .dockerignore`);
    }
  }
  t.match(dockerfile, /ENTRYPOINT \["node", "dist\/src\/cli\.js"\]/, 'the entry point is where tsc puts src/cli.ts');
});

t.test(
  'the build stage compiles, and the runtime entry point runs on its output',
  {
    skip:
      process.env['NEURONETES_TEST_IMAGE_BUILD'] === '1' ? false : 'set NEURONETES_TEST_IMAGE_BUILD=1 (tsc of the whole service: minutes on a busy machine)',
  },
  async (t) => {
    t.setTimeout(600_000);
    const context = await tempDir(t);
    const copies = contextCopies();
    const build = copies.filter((c) => c.stage === 'build').flatMap((c) => c.sources);
    for (const source of build) await cp(join(root, source), join(context, source), { recursive: true });
    await symlink(join(root, 'node_modules'), join(context, 'node_modules')); // stands in for `npm ci`
    await run('npm', ['run', 'build'], { cwd: context });
    for (const source of copies.filter((c) => c.stage === 'runtime').flatMap((c) => c.sources)) {
      if (!build.includes(source)) await cp(join(root, source), join(context, source), { recursive: true });
    }
    const { stdout } = await run(process.execPath, ['dist/src/cli.js', 'check-config', '--config', 'examples/config/neuronetes.yaml'], { cwd: context });
    t.match(stdout, /valid; enabled plugins: 8 scheduler/);
  },
);
