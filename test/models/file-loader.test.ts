/**
 * The file loader and the cache path against hostile input, through the real /models/load route: only
 * files below an allowed root reach the cache, whatever the URI or the seed folder's symlinks say,
 * never more than the Model's spec.size, and no model name leaves the cache folder.
 */
import { spawnSync } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { fileRoots, filePathOf } from '../../extenders/builtin/model-loader/file-loader.ts';
import { ModelCache } from '../../src/models/model-cache.ts';
import { buildTestApp, tempDir } from '../guardrails/harness.ts';

interface ErrorBody {
  code: string;
  message: string;
}

function model(name: string, uri: string, size = '1Mi'): string {
  return `---\napiVersion: neuronetes.io/v1alpha1\nkind: Model\nmetadata: { name: ${name}, namespace: agents }\nspec: { weightsURI: '${uri}', size: '${size}' }\n`;
}

/** A root with a good model, a neighbour outside it, and the symlinks an attacker would plant. */
async function seedFolders(t: Parameters<typeof tempDir>[0]): Promise<{ root: string; outside: string }> {
  const dir = await tempDir(t);
  const root = join(dir, 'seed');
  const outside = join(dir, 'outside');
  await mkdir(join(root, 'good', 'tokenizer'), { recursive: true });
  await writeFile(join(root, 'good', 'model.gguf'), 'weights!');
  await writeFile(join(root, 'good', 'tokenizer', 'vocab.json'), '{"a":1}');
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'secret'), 'node secret');
  // Symlinks leading out of the root, one per level.
  await mkdir(join(root, 'leaky'), { recursive: true });
  await writeFile(join(root, 'leaky', 'model.gguf'), 'weights!');
  await symlink(join(outside, 'secret'), join(root, 'leaky', 'config.json'));
  await symlink(outside, join(root, 'outlink'));
  await symlink('/etc/passwd', join(root, 'passwd.gguf'));
  // A symlink inside the root (a Hugging Face cache's snapshot → blob layout): copied as the file.
  await mkdir(join(root, 'blobs'), { recursive: true });
  await writeFile(join(root, 'blobs', 'sha-1'), 'blob bytes');
  await mkdir(join(root, 'snapshot'), { recursive: true });
  await symlink(join(root, 'blobs', 'sha-1'), join(root, 'snapshot', 'model.safetensors'));
  // A folder that contains itself.
  await mkdir(join(root, 'loop'), { recursive: true });
  await symlink(join(root, 'loop'), join(root, 'loop', 'again'));
  await writeFile(join(root, 'big.bin'), Buffer.alloc(4096, 1));
  return { root, outside };
}

t.test('filePathOf refuses what could climb out once decoded', async (t) => {
  t.equal(filePathOf('file:///var/lib/neuronetes/seed/phi%203/'), '/var/lib/neuronetes/seed/phi 3');
  t.equal(filePathOf('file://localhost/seed/x.gguf'), '/seed/x.gguf');
  t.throws(() => filePathOf('file:///seed/../etc/passwd'), /refusing path segment "\.\."/);
  t.throws(() => filePathOf('file:///seed/%2e%2e/etc/passwd'), /refusing path segment "%2e%2e" \(it means "\.\."\)/);
  t.throws(() => filePathOf('file:///seed/.%2E/etc'), /refusing path segment "\.%2E"/);
  t.throws(() => filePathOf('file:///seed/a%2f..%2f..%2fetc'), /refusing path segment "a%2f\.\.%2f\.\.%2fetc"/);
  t.throws(() => filePathOf('file:///seed/x%00.gguf'), /refusing path segment/);
  t.throws(() => filePathOf('file:///seed/%zz'), /malformed percent-encoding/);
  t.throws(() => filePathOf('file://evil.example/share/x'), /names host "evil\.example"/);
  t.throws(() => filePathOf('file:///seed/x?y=1'), /not a file:\/\/\/absolute\/path URI/);
  t.same(fileRoots({}, {}), ['/var/lib/neuronetes/seed'], 'the documented default root');
  t.same(fileRoots({}, { NEURONETES_FILE_ROOTS: '/a:/b' }), ['/a', '/b']);
  t.same(fileRoots({ roots: ['/c'] }, { NEURONETES_FILE_ROOTS: '/a' }), ['/c'], 'config wins over the environment');
  t.throws(() => fileRoots({}, { NEURONETES_FILE_ROOTS: 'seed' }), /root "seed" is not an absolute path/);
  await t.rejects(
    buildTestApp(t, { config: "model-loader-plugins:\n  - { name: file, config: { roots: ['seed'] } }", agent: {} }),
    /model-loader-plugins "file": config\.roots\[0\] is "seed"; it must match/,
    'a relative root in the config stops the start',
  );
});

t.test('hostile file:// Models fail with a clear 502 and leave nothing in the cache', async (t) => {
  const { root } = await seedFolders(t);
  const fifo = join(root, 'pipe');
  const hasFifo = spawnSync('mkfifo', [fifo]).status === 0;
  const cases: [string, string, RegExp, string?][] = [
    ['passwd', 'file:///etc/passwd', /\/etc\/passwd is outside the allowed roots \(.*seed\); set the file loader's config roots/],
    ['dotdot', `file://${root}/../outside/secret`, /refusing path segment "\.\."/],
    ['encoded-dotdot', `file://${root}/%2e%2e/outside/secret`, /refusing path segment "%2e%2e"/],
    ['encoded-slash', `file://${root}/..%2Foutside%2Fsecret`, /refusing path segment "\.\.%2Foutside%2Fsecret"/],
    ['link-file', `file://${root}/passwd.gguf`, /passwd\.gguf \(\/etc\/passwd\) is outside the allowed roots/],
    ['link-folder', `file://${root}/outlink/`, /outlink \(.*outside\) is outside the allowed roots/],
    ['link-inside', `file://${root}/leaky/`, /leaky\/config\.json leads to .*outside\/secret, outside the allowed root/],
    ['loop', `file://${root}/loop/`, /loop\/again loops back to/],
    ['too-big', `file://${root}/big.bin`, /agents\/too-big is larger than its spec\.size 1Ki \(1024 bytes\): 4096 bytes or more/, '1Ki'],
    ['missing', `file://${root}/nothing-here/`, /nothing-here: no such file or folder/],
    ['remote', 'file://fileserver/share/model.gguf', /names host "fileserver"; file:\/\/ URIs are read on this node only/],
    ...(hasFifo ? ([['fifo', `file://${fifo}`, /pipe is neither a regular file nor a folder/]] as [string, string, RegExp][]) : []),
  ];
  const app = await buildTestApp(t, {
    cluster: cases.map(([name, uri, , size]) => model(name, uri, size)).join(''),
    config: `model-loader-plugins:\n  - { name: file, timeout: 5s, config: { roots: ['${root}'] } }`,
    agent: {},
  });
  for (const [name, , message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/models/load', payload: { name, namespace: 'agents' } });
    t.equal(res.statusCode, 502, `${name}: ${res.body}`);
    t.equal(res.json<ErrorBody>().code, 'NN_MODEL_LOAD_FAILED');
    t.match(res.json<ErrorBody>().message, message, name);
  }
  const cache = app.neuronetes.models?.cache;
  t.same(await cache?.names(), [], 'nothing was cached');
  t.same(await cache?.staging(), [], 'no partial copy left');
});

t.test('inside the root: folders copied, symlinks copied as the files they point to, and the default root refuses a temp folder', async (t) => {
  const { root } = await seedFolders(t);
  const cluster = model('good', `file://${root}/good/`) + model('snap', `file://${root}/snapshot/`) + model('exact', `file://${root}/big.bin`, '4Ki');
  const app = await buildTestApp(t, { cluster, config: `model-loader-plugins:\n  - { name: file, config: { roots: ['${root}'] } }`, agent: {} });
  const dir = app.neuronetes.models?.cache.dir as string;
  const load = (name: string) => app.inject({ method: 'POST', url: '/models/load', payload: { name, namespace: 'agents' } });
  t.match((await load('good')).json(), { status: 'loaded', files: 2, bytes: 15 });
  t.match((await load('snap')).json(), { status: 'loaded', files: 1, bytes: 10 });
  const copied = join(dir, 'snap', 'model.safetensors');
  t.ok((await lstat(copied)).isFile(), 'a regular file, not a symlink');
  t.equal(await readFile(copied, 'utf8'), 'blob bytes');
  t.match((await load('exact')).json(), { status: 'loaded', bytes: 4096 }, 'exactly spec.size is allowed');

  const defaults = await buildTestApp(t, { cluster, agent: {} });
  const res = await defaults.inject({ method: 'POST', url: '/models/load', payload: { name: 'good', namespace: 'agents' } });
  t.equal(res.statusCode, 502);
  t.match(res.json<ErrorBody>().message, /is outside the allowed roots \(\/var\/lib\/neuronetes\/seed\)/);
  const none = await buildTestApp(t, { cluster, config: 'model-loader-plugins:\n  - { name: file, config: { roots: [] } }', agent: {} });
  const off = await none.inject({ method: 'POST', url: '/models/load', payload: { name: 'good', namespace: 'agents' } });
  t.equal(off.statusCode, 502);
  t.match(off.json<ErrorBody>().message, /is outside every allowed root: the file loader has none; set the file loader's config roots/);
});

t.test('model names that are not Kubernetes names never reach the disk', async (t) => {
  const app = await buildTestApp(t, { agent: {} });
  const dir = app.neuronetes.models?.cache.dir as string;
  for (const name of ['..', '../etc', 'a/b', '%2e%2e', 'a..b', '.hidden', 'UPPER', 'a.-b', '-a', 'x'.repeat(254), '']) {
    for (const op of ['load', 'unload']) {
      const res = await app.inject({ method: 'POST', url: `/models/${op}`, payload: { name, namespace: 'agents' } });
      t.equal(res.statusCode, 400, `${op} ${JSON.stringify(name.slice(0, 20))}`);
      t.equal(res.json<ErrorBody>().code, 'FST_ERR_VALIDATION');
    }
  }
  const cache = new ModelCache(dir);
  for (const name of ['..', '../../tmp/x', 'a/b']) {
    t.throws(() => cache.pathOf(name), /invalid model name .*not a Kubernetes object name/);
    await t.rejects(cache.stage(name), /invalid model name/, `stage(${name}) makes no folder`);
  }
  t.same(await readdir(join(dir, '.staging')), []);
});
