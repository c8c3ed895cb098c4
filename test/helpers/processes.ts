/** Small probes the tests and benches that start real processes share. */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A loopback port free a moment ago, so parallel runs do not collide on fixed ones. */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

/** A process's resident set in MiB, from /proc; 0 once it has gone. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * For a child that runs src/cli.ts without the npm scripts' NODE_OPTIONS: under this condition the
 * built-ins' `import 'neuronetes'` resolves to src/index.ts (installed, it resolves to dist/).
 */
export const FROM_SOURCE = '--conditions=neuronetes-source';
