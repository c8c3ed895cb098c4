import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import t from 'tap';
import { loadExternalScaler, type GetMetricSpecResponse, type IsActiveResponse } from '../../src/keda/external-scaler-proto.ts';
import { call, ref } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'src', 'cli.ts');
const run = promisify(execFile);

async function fails(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' } });
    return { code: 0, stderr: '' };
  } catch (e: unknown) {
    return e as { code: number; stderr: string };
  }
}

t.test('neuronetes serve --keda-grpc-port serves the external scaler on the bundled example cluster', async (t) => {
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--host', '127.0.0.1', '--port', '0', '--keda-grpc-port', '0', '--config', 'examples/config/neuronetes.yaml'],
    {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let port: number | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    if (entry.msg === 'KEDA external scaler listening') {
      port = entry.port;
      break;
    }
  }
  t.type(port, 'number', 'the bound port is logged');
  const ExternalScaler = loadExternalScaler();
  const client = new ExternalScaler(`127.0.0.1:${port}`, credentials.createInsecure());
  t.same(await call<unknown, IsActiveResponse>(client, 'IsActive', ref('code-assistant', 'agents')), { result: true });
  const spec = await call<unknown, GetMetricSpecResponse>(client, 'GetMetricSpec', ref('scaler', 'keda', { pool: 'agents/code-assistant' }));
  t.equal(spec.metricSpecs[0]?.metricName, 'desired-replicas-agents-code-assistant');
  client.close();
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM shuts the gRPC server down with the app');
});

t.test('bad KEDA flags are refused; the node agent has none', async (t) => {
  const [port, interval, agent] = await Promise.all([
    fails('serve', '--keda-grpc-port', 'grpc'),
    fails('serve', '--keda-grpc-port', '9090', '--keda-stream-interval', '0'),
    fails('agent', '--keda-grpc-port', '9090'),
  ]);
  t.equal(port.code, 1);
  t.match(port.stderr, /--keda-grpc-port must be 0\.\.65535, not grpc/);
  t.match(interval.stderr, /--keda-stream-interval must be positive/);
  t.equal(agent.code, 2);
  t.match(agent.stderr, /Unknown option '--keda-grpc-port'/);
});
