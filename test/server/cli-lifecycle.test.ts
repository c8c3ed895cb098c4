/**
 * `neuronetes serve` as a pod runs it: a port already taken fails the start at once (so the pod
 * restarts instead of hanging), and SIGTERM lets a call in flight finish, then exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { freePort } from '../helpers/processes.ts';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'src', 'cli.ts');

function start(...args: string[]): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, 'serve', '--host', '127.0.0.1', ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stderr: () => out, exited };
}

async function waitForListening(port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing listening on ${port} after ${deadlineMs} ms`);
}

t.test('a port already in use: exit 1 at once, naming the listener and the address', async (t) => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.teardown(() => taken.close());
  const { port } = taken.address() as AddressInfo;

  const api = start('--port', String(port));
  t.teardown(() => api.child.kill('SIGKILL'));
  t.equal(await api.exited, 1);
  t.match(api.stderr(), `neuronetes: cannot listen on 127.0.0.1:${port} (api listener): the address is already in use`);

  const admin = start('--port', '0', '--admin-port', String(port));
  t.teardown(() => admin.child.kill('SIGKILL'));
  t.equal(await admin.exited, 1, 'the admin listener too, after the API listener had started');
  t.match(admin.stderr(), `cannot listen on 127.0.0.1:${port} (admin listener): the address is already in use`);
});

t.test('SIGTERM: stops accepting, lets the call in flight finish, exits 0', async (t) => {
  const port = await freePort();
  const serve = start('--port', String(port), '--shutdown-timeout', '20s');
  t.teardown(() => serve.child.kill('SIGKILL'));
  await waitForListening(port, 45_000);

  // A bind whose body is still arriving when SIGTERM comes.
  const body = JSON.stringify({ PodName: 'code-assistant-2', PodNamespace: 'agents', PodUID: 'no-such-uid', Node: 'gpu-a100-1' });
  const socket: Socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString()));
  socket.write(
    `POST /scheduler/bind HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 10)}`,
  );
  await new Promise((r) => setTimeout(r, 300));

  serve.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1_000));
  const refused = await new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
  t.ok(refused, 'new connections are refused once SIGTERM came');

  socket.end(body.slice(10));
  await once(socket, 'close');
  t.match(response, /^HTTP\/1\.1 200 /, 'the call in flight got its answer');
  t.match(response, /"Error":"binding agents\/code-assistant-2 to gpu-a100-1 failed: pod agents\/code-assistant-2 has UID/);
  const code = await serve.exited;
  if (code !== 0) t.comment(serve.stderr());
  t.equal(code, 0, 'exit 0 once drained');
  t.match(serve.stderr(), /shutting down: draining requests in flight/);
});
