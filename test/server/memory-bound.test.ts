/**
 * The load the issue measured: 22 clients each declaring a 50 MB body and stalling before its end.
 * Unbounded, the service buffered them all (RSS 152 MB → 1.25 GB, over the Deployment's 1 GiB); with
 * the body budget and the request timeout the real CLI process stays far below and keeps answering.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { SERVICE_ENV, SERVICE_NODE_OPTIONS } from '../../src/server/runtime-flags.ts';
import { FROM_SOURCE, freePort, rssMiB } from '../helpers/processes.ts';

const root = join(import.meta.dirname, '..', '..');
const CLIENTS = 22;
const DECLARED = 50 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024, 0x20);
const BUDGET_MIB = 64;

/** Sends all but the last byte of a declared 50 MB body as fast as the server takes it, then stalls. */
async function stalledClient(port: number, until: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let open = true;
  // Not events.once(socket, 'close'): it rejects on the EPIPE of a server that answered and closed.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('close', () => (open = false));
  socket.on('data', () => socket.destroy());
  socket.write(`POST /scheduler/filter HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${DECLARED}\r\n\r\n`);
  for (let sent = 0; open && sent + CHUNK.length < DECLARED && Date.now() < until; sent += CHUNK.length) {
    if (!socket.write(CHUNK)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed, new Promise((r) => setTimeout(r, until - Date.now()))]);
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())))]);
  socket.destroy();
}

t.test(`${CLIENTS} stalled 50 MB bodies: RSS stays bounded and /healthz answers`, async (t) => {
  const port = await freePort();
  // The budget, not the request timeout, is under test here: the timeout is long enough not to help.
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--body-budget', String(BUDGET_MIB * 1024 * 1024), '--request-timeout', '60s'];
  // Started as the image starts it. tap's processinfo puts its coverage hook back into the NODE_OPTIONS
  // of every child it sees spawned (hundreds of MiB of RSS), so `env -u` drops it one process further.
  const node = [...SERVICE_NODE_OPTIONS, FROM_SOURCE, join(root, 'src', 'cli.ts'), ...args];
  const child = spawn('env', ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', process.execPath, ...node], {
    cwd: root,
    env: { ...process.env, ...SERVICE_ENV, LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  t.teardown(() => child.kill('SIGKILL'));
  const pid = child.pid as number;
  for (let i = 0; ; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (r?.ok === true) break;
    if (i > 200) throw new Error('serve did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
  const before = await rssMiB(pid);
  let peak = before;
  const sampler = setInterval(
    () =>
      void rssMiB(pid).then(
        (m) => (peak = Math.max(peak, m)),
        () => undefined,
      ),
    100,
  );
  const until = Date.now() + 15_000;
  const clients = Array.from({ length: CLIENTS }, () => stalledClient(port, until));
  await new Promise((r) => setTimeout(r, 4_000));
  const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) });
  t.equal(health.status, 200, '/healthz answers while the bodies stall');
  await Promise.all(clients);
  clearInterval(sampler);
  t.comment(`RSS ${before.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB at peak`);
  // Held bodies become strings as they are parsed, and GC lags: allow the budget thrice over, nothing like 22 × 50 MB.
  t.ok(peak - before < 3 * BUDGET_MIB, `RSS grew ${(peak - before).toFixed(0)} MiB for a ${BUDGET_MIB} MiB body budget`);
  t.ok(peak < 512, `peak RSS ${peak.toFixed(0)} MiB stays under 512 MiB (the Deployment's limit is 1 GiB)`);
});
