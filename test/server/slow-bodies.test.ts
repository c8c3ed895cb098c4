/** Slow and partial bodies over real sockets: the request timeout cuts them, the body budget bounds them. */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import t from 'tap';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import { buildApp, type BuildAppOptions } from '../../src/server/app.ts';
import { listenAll } from '../../src/server/listeners.ts';
import { EMPTY_CLUSTER_OBJECTS } from '../helpers/test-app.ts';

interface Teardown {
  teardown(fn: () => unknown): void;
}

async function serve(t: Teardown, options: Partial<BuildAppOptions>): Promise<{ port: number; held: () => Promise<number> }> {
  const log = pino({ level: 'silent' });
  const app = await buildApp({
    cluster: new SnapshotSource({ log, objects: EMPTY_CLUSTER_OBJECTS }),
    registry: new PluginRegistry(),
    builtins: false,
    logger: log,
    ...options,
  });
  const listening = await listenAll(app, { api: { host: '127.0.0.1', port: 0 } }, options.requestTimeoutMs ?? 10_000);
  t.teardown(() => listening.close(1_000));
  const held = async (): Promise<number> => Number(/^neuronetes_request_body_bytes (\d+)$/m.exec((await app.inject('/metrics')).body)?.[1]);
  return { port: listening.addresses.api?.port ?? 0, held };
}

/** Opens a connection and sends the headers of a POST declaring `length` bytes, then `sent` of them. */
async function partialPost(
  port: number,
  path: string,
  length: number,
  sent: number,
): Promise<{ socket: Socket; response: () => string; closed: Promise<unknown> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`);
  if (sent > 0) socket.write(Buffer.alloc(sent, 0x20));
  return { socket, response: () => response, closed };
}

t.test('a body that stops arriving is cut at the request timeout (fastify waits forever by default)', async (t) => {
  const { port } = await serve(t, { requestTimeoutMs: 1_000 });
  const started = Date.now();
  const slow = await partialPost(port, '/scheduler/filter', 1_000, 10);
  const cut = await Promise.race([slow.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 8_000))]);
  t.ok(cut, 'the server closed the connection');
  t.ok(Date.now() - started < 5_000, `within a few seconds (${Date.now() - started} ms)`);
  t.match(slow.response(), /^HTTP\/1\.1 408 /);
  slow.socket.destroy();
});

t.test('request bodies in flight share one budget: a body that would overdraw it gets 503 until the bytes are given back', async (t) => {
  const mib = 256 * 1024; // a small unit keeps the test quick; the arithmetic is the same
  // A long request timeout: this test is about the budget, and a loaded machine makes it slow.
  const { port, held } = await serve(t, { bodyLimit: 4 * mib, bodyBudget: 4 * mib, requestTimeoutMs: 120_000 });
  const stalled = await partialPost(port, '/scheduler/filter', 4 * mib, 3 * mib);
  for (const until = Date.now() + 10_000; (await held()) < 3 * mib && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  t.equal(await held(), 3 * mib, 'neuronetes_request_body_bytes shows the stalled body');

  const declared = await partialPost(port, '/scheduler/filter', 2 * mib, 0);
  await declared.closed.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 200));
  t.match(declared.response(), /^HTTP\/1\.1 503 /, 'a declared length over what is left is refused before a byte is read');
  t.match(declared.response(), /NN_BODY_BUDGET/);
  t.match(declared.response(), /\r\nconnection: close\r\n/i, 'the unread body cannot be skipped: the connection closes with the answer');

  const chunked = connect(port, '127.0.0.1');
  await once(chunked, 'connect');
  let chunkedResponse = '';
  chunked.on('data', (d: Buffer) => (chunkedResponse += d.toString()));
  chunked.on('error', () => undefined);
  const chunk = Buffer.alloc(2 * mib, 0x20);
  chunked.write(
    `POST /scheduler/filter HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n`,
  );
  chunked.write(chunk);
  chunked.write('\r\n');
  const until = Date.now() + 8_000;
  while (!chunkedResponse.includes('\r\n\r\n') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  t.match(chunkedResponse, /^HTTP\/1\.1 503 /, 'a chunked body is refused at the chunk that overdraws');
  chunked.destroy();

  stalled.socket.destroy();
  await stalled.closed;
  for (const until = Date.now() + 10_000; (await held()) > 0 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  t.equal(await held(), 0, 'every byte given back');
  const res = await fetch(`http://127.0.0.1:${port}/scheduler/filter`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Pod: { metadata: { name: 'p' } }, NodeNames: [' '.repeat(3 * mib)] }),
  });
  t.equal(res.status, 200, 'the abandoned body gave its bytes back');
});
