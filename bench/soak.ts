/**
 * `npm run soak`: the real `neuronetes serve` (example cluster, shipped config, the image's Node
 * flags) under steady traffic from well-behaved callers while misbehaving ones keep at it: bodies
 * trickled byte by byte, bodies that stall before their end, oversized bodies, malformed JSON.
 * Loopback only, bounded in time (SOAK_SECONDS, default 60, at most 600) and in calls
 * (SOAK_MAX_REQUESTS); stops by itself. Every SOAK_REPORT_SECONDS it prints requests, errors, p99 and
 * the server's RSS; exits 1 if a well-behaved call failed, a misbehaving one got an unexpected answer,
 * or RSS reached the Deployment's 1 GiB limit.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { SERVICE_ENV, SERVICE_NODE_OPTIONS } from '../src/server/runtime-flags.ts';
import { freePort, rssMiB } from '../test/helpers/processes.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SECONDS = Math.min(600, Number(process.env['SOAK_SECONDS'] ?? 60));
const MAX_REQUESTS = Number(process.env['SOAK_MAX_REQUESTS'] ?? 5_000_000);
const REPORT_SECONDS = Number(process.env['SOAK_REPORT_SECONDS'] ?? 10);
const CONCURRENCY = Number(process.env['SOAK_CONCURRENCY'] ?? 8);
const LIMIT_MIB = 1024;

/** Counts per reporting window and overall. */
class Tally {
  requests = 0;
  errors = 0;
  misbehaving = 0;
  unexpected = 0;
  latencies: number[] = [];
}

const p99 = (values: number[]): number => {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
};

interface RawAnswer {
  status: number;
}

/** One raw HTTP/1.1 exchange, for the bodies no well-behaved client sends. */
async function raw(port: number, head: string, write: (send: (chunk: string | Buffer) => boolean) => Promise<void>, deadline: number): Promise<RawAnswer> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  // Not events.once: it rejects on 'error', and a server that answers early and closes is an EPIPE here.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write(head);
  await write((chunk) => !socket.destroyed && socket.write(chunk));
  await Promise.race([closed, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
  socket.destroy();
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0) };
}

const head = (path: string, extra: string): string =>
  `POST ${path} HTTP/1.1\r\nhost: soak\r\ncontent-type: application/json\r\n${extra}connection: close\r\n\r\n`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Each misbehaviour and the answers it may get (0: the server cut the connection without one). */
const MISBEHAVIOURS: { name: string; expect: readonly number[]; run: (port: number, deadline: number) => Promise<RawAnswer> }[] = [
  {
    name: 'trickled body (1 byte / 200 ms)',
    expect: [408, 0],
    run: (port, deadline) =>
      raw(
        port,
        head('/scheduler/filter', 'content-length: 4096\r\n'),
        async (send) => {
          for (let i = 0; i < 4096 && Date.now() < deadline && send(' '); i++) await sleep(200);
        },
        deadline,
      ),
  },
  {
    name: 'stalled 50 MB body',
    expect: [408, 503, 0],
    run: (port, deadline) =>
      raw(
        port,
        head('/scheduler/filter', `content-length: ${50 * 1024 * 1024}\r\n`),
        async (send) => {
          const chunk = Buffer.alloc(1024 * 1024, 0x20);
          for (let i = 0; i < 49 && send(chunk); i++) await sleep(5);
        },
        deadline,
      ),
  },
  {
    name: 'oversized decide body (5 MiB)',
    expect: [413, 0],
    run: (port, deadline) =>
      raw(port, head('/autoscaler/decide', `content-length: ${5 * 1024 * 1024}\r\n`), async (send) => void send(Buffer.alloc(5 * 1024 * 1024, 0x20)), deadline),
  },
  {
    name: 'malformed JSON',
    expect: [400],
    run: (port, deadline) => raw(port, head('/scheduler/filter', 'content-length: 9\r\n'), async (send) => void send('{"Pod": ['), deadline),
  },
];

async function main(): Promise<number> {
  const [port, opsPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      ...SERVICE_NODE_OPTIONS,
      join(REPO, 'src', 'cli.ts'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--ops-port',
      String(opsPort),
      '--ops-host',
      '127.0.0.1',
      '--config',
      join(REPO, 'examples', 'config', 'neuronetes.yaml'),
    ],
    {
      cwd: REPO,
      env: { ...process.env, ...SERVICE_ENV, LOG_LEVEL: 'silent' },
      stdio: 'inherit',
    },
  );
  const stop = (): void => void child.kill('SIGTERM');
  process.once('SIGINT', stop);
  const pid = child.pid as number;
  for (let i = 0; ; i++) {
    const r = await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => undefined);
    if (r?.ok === true) break;
    if (i > 240) throw new Error('serve did not become ready within a minute');
    await sleep(250);
  }

  const examples = ['code-assistant', 'research-agent', 'support-bot', 'triage-agent'];
  const filterBodies = await Promise.all(examples.map((e) => readFile(join(REPO, 'examples', 'requests', `filter-${e}.json`), 'utf8')));
  const calls = [
    ...filterBodies.flatMap((body) => [
      { path: '/scheduler/filter', body },
      { path: '/scheduler/prioritize', body },
    ]),
    {
      path: '/autoscaler/decide',
      body: JSON.stringify({ pool: { namespace: 'agents', name: 'code-assistant' }, currentReplicas: 2, metrics: { 'tokens-in-queue': 5200 }, dryRun: true }),
    },
    { path: '/guardrails/check', body: JSON.stringify({ content: 'reach me at someone@example.com about the order', direction: 'input' }) },
  ];

  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  const window = new Tally();
  const total = new Tally();
  const badAnswers = new Map<string, number>();
  let peakRss = await rssMiB(pid);
  let worstP99 = 0;
  const printRow = async (): Promise<void> => {
    const rss = await rssMiB(pid);
    peakRss = Math.max(peakRss, rss);
    const row = `${String(Math.round((Date.now() - started) / 1000)).padStart(5)} s  ${String(window.requests).padStart(9)}  ${String(window.errors).padStart(6)}  ${p99(window.latencies).toFixed(1).padStart(7)} ms  ${String(window.misbehaving).padStart(6)} (${window.unexpected} unexpected)  ${rss.toFixed(0).padStart(5)} MiB`;
    worstP99 = Math.max(worstP99, p99(window.latencies));
    process.stdout.write(`${row}\n`);
    window.requests = window.errors = window.misbehaving = window.unexpected = 0;
    window.latencies = [];
  };
  process.stdout.write(`soak: ${SECONDS} s, ${CONCURRENCY} well-behaved callers, ${MISBEHAVIOURS.length} misbehaving ones, server pid ${pid}\n`);
  process.stdout.write('   time   requests  errors      p99   misbehaving                  RSS\n');
  const reporter = setInterval(() => void printRow(), REPORT_SECONDS * 1000);

  const wellBehaved = Array.from({ length: CONCURRENCY }, async (_, k) => {
    for (let i = k; Date.now() < deadline && total.requests < MAX_REQUESTS; i++) {
      const call = calls[i % calls.length] as (typeof calls)[number];
      const t0 = performance.now();
      try {
        const res = await pool.request({
          method: 'POST',
          path: call.path,
          body: call.body,
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.timeout(10_000),
        });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`${call.path}: ${res.statusCode}`);
        window.latencies.push(performance.now() - t0);
      } catch {
        window.errors++;
        total.errors++;
      }
      window.requests++;
      total.requests++;
    }
  });
  const misbehaving = MISBEHAVIOURS.map(async (m) => {
    while (Date.now() < deadline) {
      const answer = await m.run(port, Math.min(deadline, Date.now() + 15_000)).catch(() => ({ status: -1 }));
      window.misbehaving++;
      total.misbehaving++;
      if (!m.expect.includes(answer.status) && Date.now() < deadline) {
        window.unexpected++;
        total.unexpected++;
        const key = `${m.name} → ${answer.status}`;
        badAnswers.set(key, (badAnswers.get(key) ?? 0) + 1);
      }
    }
  });
  await Promise.all([...wellBehaved, ...misbehaving]);
  clearInterval(reporter);
  if (window.requests + window.misbehaving > 0) await printRow();
  await pool.close();
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];

  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `\n${total.requests} requests in ${seconds.toFixed(0)} s (${(total.requests / seconds).toFixed(0)}/s), ${total.errors} errors, worst p99 ${worstP99.toFixed(1)} ms; ` +
      `${total.misbehaving} misbehaving calls, ${total.unexpected} unexpected answers; peak RSS ${peakRss.toFixed(0)} MiB; SIGTERM exit ${code}\n`,
  );
  for (const [k, n] of badAnswers) process.stdout.write(`  unexpected: ${k} ×${n}\n`);
  return total.errors === 0 && total.unexpected === 0 && peakRss < LIMIT_MIB && code === 0 ? 0 : 1;
}

process.exitCode = await main();
