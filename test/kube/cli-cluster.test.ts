import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

async function serve(...args: string[]): Promise<{ code: number; stderr: string }> {
  return serveWith({}, ...args);
}

async function serveWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [cli, 'serve', ...args], { env: { ...process.env, LOG_LEVEL: 'silent', KUBECONFIG: '', ...env }, timeout: 60_000 });
    return { code: 0, stderr: '' };
  } catch (e: unknown) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

t.test('--cluster kubernetes: bad stale age, missing kubeconfig and unknown sources fail before serving', async (t) => {
  const stale = await serve('--cluster', 'kubernetes', '--stale-after', '10s');
  t.same(stale, { code: 1, stderr: 'neuronetes: --stale-after must be at least 45s, not 10s\n' });
  const malformed = await serve('--cluster', 'kubernetes', '--stale-after', 'soon');
  t.equal(malformed.code, 1);
  t.match(malformed.stderr, /soon/);
  const kubeconfig = await serve('--cluster', 'kubernetes', '--kubeconfig', '/nonexistent/kubeconfig');
  t.equal(kubeconfig.code, 1);
  t.match(kubeconfig.stderr, /ENOENT.*\/nonexistent\/kubeconfig/);
  const bogus = await serve('--cluster', 'etcd');
  t.match(bogus, { code: 1, stderr: /--cluster must be snapshot or kubernetes, not "etcd"/ });
});

t.test('--actuate: only with --cluster kubernetes, a sane interval, a boolean environment value', async (t) => {
  t.match(await serve('--actuate'), { code: 1, stderr: /--actuate needs --cluster kubernetes/ });
  t.match(await serve('--actuate', '--cluster', 'kubernetes', '--actuate-interval', '10ms'), {
    code: 1,
    stderr: /--actuate-interval must be at least 1s, not 10ms/,
  });
  const env = async (value: string): Promise<{ code: number; stderr: string }> => {
    try {
      await run(process.execPath, [cli, 'serve'], { env: { ...process.env, LOG_LEVEL: 'silent', NEURONETES_ACTUATE: value }, timeout: 60_000 });
      return { code: 0, stderr: '' };
    } catch (e: unknown) {
      return e as { code: number; stderr: string };
    }
  };
  t.match(await env('yes please'), { code: 1, stderr: /--actuate must be true or false, not "yes please"/ });
  t.match(await env('1'), { code: 1, stderr: /--actuate needs --cluster kubernetes/ }, 'NEURONETES_ACTUATE=1 turns it on');
});

t.test('the pool controller: a sane interval and a boolean --manage-pools, checked before serving', async (t) => {
  t.match(await serve('--cluster', 'kubernetes', '--pools-interval', '100ms'), { code: 1, stderr: /--pools-interval must be at least 1s, not 100ms/ });
  t.match(await serve('--cluster', 'kubernetes', '--manage-pools', 'sometimes'), { code: 1, stderr: /--manage-pools must be true or false, not "sometimes"/ });
});

t.test('--model-status and NEURONETES_MODEL_STATUS: true, 1, false or 0; anything else fails before the kubeconfig is read', async (t) => {
  const missing = ['--cluster', 'kubernetes', '--kubeconfig', '/nonexistent/kubeconfig'];
  // A value that parses goes on to load the kubeconfig, and fails there.
  const loadsKubeconfig = { code: 1, stderr: /ENOENT.*\/nonexistent\/kubeconfig/ };
  t.match(await serve(...missing, '--model-status', 'true'), loadsKubeconfig, '--model-status true');
  t.match(await serve(...missing, '--model-status', '0'), loadsKubeconfig, '--model-status 0');
  t.match(await serveWith({ NEURONETES_MODEL_STATUS: '1' }, ...missing), loadsKubeconfig, 'NEURONETES_MODEL_STATUS=1');
  t.same(await serve(...missing, '--model-status', 'sometimes'), { code: 1, stderr: 'neuronetes: --model-status must be true or false, not "sometimes"\n' });
  t.same(await serveWith({ NEURONETES_MODEL_STATUS: 'on' }, ...missing), { code: 1, stderr: 'neuronetes: --model-status must be true or false, not "on"\n' });
  t.match(await serveWith({ NEURONETES_MODEL_STATUS: 'on' }, ...missing, '--model-status', 'false'), loadsKubeconfig, 'the flag wins over the environment');
});
