/** Compiles bench/server-process.ts, starts it as a child and talks to it over IPC. */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterObjects } from '../src/cluster/cluster-view.ts';
import { SERVICE_ENV, SERVICE_NODE_OPTIONS } from '../src/server/runtime-flags.ts';
import type { ServerReply, ServerRequest } from './server-process.ts';

const REPO = join(import.meta.dirname, '..');
/**
 * The server runs compiled, as the image runs the service (`node dist/src/cli.js`): run from source,
 * Node's type stripping loads a TypeScript compiler into the process, about 28 MB of steady RSS the
 * service never has.
 */
const ENTRY = join(REPO, 'bench', '.build', 'bench', 'server-process.js');

let built: Promise<void> | undefined;

/** Compiles the service and the bench server into bench/.build, once per bench run. */
export function buildServer(): Promise<void> {
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  built ??= promisify(execFile)(process.execPath, [tsc, '-p', join(REPO, 'tsconfig.bench.json')], { cwd: REPO }).then(
    () => undefined,
    (e: Error & { stdout?: string }) => {
      // tsc reports its errors on stdout.
      throw new Error(`compiling the bench server failed: ${e.stdout || e.message}`);
    },
  );
  return built;
}

const START_TIMEOUT_MS = 120_000;

export interface ServerHandle {
  readonly origin: string;
  readonly floorOrigin: string;
  readonly nodes: number;
  readonly pods: number;
  ask<T extends ServerRequest['type']>(request: Extract<ServerRequest, { type: T }>): Promise<Extract<ServerReply, { type: T }>>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The cluster the server caches; it reaches the server as JSON, as an informer's list would. */
  readonly objects: ClusterObjects;
  /** Extra Node flags for the server (`--cpu-prof`…), after the service's own. */
  readonly execArgv?: readonly string[];
}

export async function startServer(options: StartOptions): Promise<ServerHandle> {
  await buildServer();
  const dir = await mkdtemp(join(tmpdir(), 'neuronetes-bench-'));
  const clusterFile = join(dir, 'cluster.json');
  await writeFile(clusterFile, JSON.stringify(options.objects));
  // The service's own heap and malloc settings, as the image runs it: the memory rows measure what ships.
  const child: ChildProcess = fork(ENTRY, [clusterFile], {
    execArgv: ['--expose-gc', ...SERVICE_NODE_OPTIONS, ...(options.execArgv ?? [])],
    env: { ...process.env, ...SERVICE_ENV },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`bench server exited (${code ?? signal})`))));
  exited.catch(() => undefined);
  const next = <T extends ServerReply['type']>(type: T, timeoutMs: number): Promise<Extract<ServerReply, { type: T }>> =>
    Promise.race([
      new Promise<Extract<ServerReply, { type: T }>>((resolve) => {
        const onMessage = (m: ServerReply): void => {
          if (m.type !== type) return;
          child.off('message', onMessage);
          resolve(m as Extract<ServerReply, { type: T }>);
        };
        child.on('message', onMessage);
      }),
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`bench server: no '${type}' within ${timeoutMs}ms`)), timeoutMs).unref()),
    ]);
  // Read by the server before it is ready; not needed after.
  const ready = await next('ready', START_TIMEOUT_MS).finally(() => rm(dir, { recursive: true, force: true }));
  return {
    origin: `http://127.0.0.1:${ready.port}`,
    floorOrigin: `http://127.0.0.1:${ready.floorPort}`,
    nodes: ready.nodes,
    pods: ready.pods,
    ask<T extends ServerRequest['type']>(request: Extract<ServerRequest, { type: T }>) {
      const reply = next<T>(request.type as T, 600_000);
      child.send(request);
      return reply;
    },
    async stop() {
      const gone = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
