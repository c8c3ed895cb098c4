import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tempDir } from '../helpers/test-app.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'src', 'cli.ts');

async function neuronetes(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' } });
    return { code: 0, stdout, stderr };
  } catch (e: unknown) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

t.test('--help lists commands and, per command, flags with their env vars', async (t) => {
  const top = await neuronetes('--help');
  t.equal(top.code, 0);
  t.match(top.stdout, /serve\s+run the extender/);
  const serve = await neuronetes('serve', '--help');
  t.equal(serve.code, 0);
  t.match(serve.stdout, /--config .*\[\$NEURONETES_CONFIG\]/);
  t.match(serve.stdout, /--port .*\[\$PORT\] \(default 8080\)/);
});

t.test('unknown commands and flags exit 2 with usage', async (t) => {
  const cmd = await neuronetes('sereve');
  t.equal(cmd.code, 2);
  t.match(cmd.stderr, /unknown command "sereve"/);
  const flag = await neuronetes('serve', '--prot', '80');
  t.equal(flag.code, 2);
  t.match(flag.stderr, /Unknown option '--prot'/);
});

t.test('check-config validates the shipped config and rejects a bad one', async (t) => {
  const ok = await neuronetes('check-config', '--config', join(root, 'examples', 'config', 'neuronetes.yaml'));
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /neuronetes.yaml: valid; enabled plugins:/);
  const dir = await tempDir(t);
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'scheduler-plugins: [{name: no-such-plugin}]\n');
  const res = await neuronetes('check-config', '--config', bad);
  t.equal(res.code, 1);
  t.match(res.stderr, /unknown plugin "no-such-plugin"/);
});

t.test('check-config rejects a bad setting of a built-in scheduler plugin, naming it and what is allowed', async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'scheduler-plugins:\n  - {name: gpu-fit, config: {strategy: bogus}}\n  - {name: cost, config: {referenceCostPerHour: -3}}\n');
  const res = await neuronetes('check-config', '--config', bad);
  t.equal(res.code, 1);
  t.match(res.stderr, 'scheduler-plugins "gpu-fit": config.strategy is "bogus"; allowed values: "pack", "spread"');
  t.match(res.stderr, 'scheduler-plugins "cost": config.referenceCostPerHour is -3; it must be > 0');
});

t.test('serve refuses bad flag values before starting', async (t) => {
  const res = await neuronetes('serve', '--port', 'eighty');
  t.equal(res.code, 1);
  t.match(res.stderr, /--port must be 0\.\.65535/);
  const tls = await neuronetes('serve', '--tls-cert', 'x.pem');
  t.match(tls.stderr, /--tls-cert and --tls-key go together/);
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
