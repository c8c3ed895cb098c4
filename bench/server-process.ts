/**
 * The server under test, in a process of its own as in production (kube-scheduler and the extender
 * never share an event loop), started with the service's Node flags (server-handle.ts): the real app
 * from buildApp() over a generated cluster read as JSON, as informers hand objects over (the
 * generator's objects share strings that parsed ones do not, and its garbage is not the service's),
 * with the shipped
 * config, the built-ins and the bench's synthetic plugins; beside it, on another port, the floor — a
 * trivial extender on a bare fastify with the same bodyLimit that keeps every node and scores all
 * alike. The parent drives both over HTTP and asks for memory and reload timings over IPC.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import Fastify from 'fastify';
import { pino } from 'pino';
import type { ClusterObjects } from '../src/cluster/cluster-view.ts';
import { SnapshotSource } from '../src/cluster/snapshot-source.ts';
import { getGlobalRegistry } from '../src/plugins/registry.ts';
import { buildApp, DEFAULT_BODY_LIMIT } from '../src/server/app.ts';
import { syntheticPlugins } from './synthetic-plugins.ts';

/** The repository, from here or from the compiled copy in bench/.build/bench (server-handle.ts). */
const REPO = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../' : '../../../', import.meta.url));
export const SHIPPED_CONFIG = join(REPO, 'examples', 'config', 'neuronetes.yaml');

export type ServerRequest = { type: 'memory' } | { type: 'cpu' } | { type: 'reload'; count: number } | { type: 'plugins' };

export interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  /** Memory V8 knows is held outside its heap, ArrayBuffers included. */
  externalMb: number;
  /** V8's heap limit: shows which heap flags the server ran with (absent in older results). */
  heapLimitMb?: number;
}

export type ServerReply =
  | { type: 'ready'; port: number; floorPort: number; nodes: number; pods: number }
  | { type: 'memory'; memory: MemorySample }
  /** CPU time the process has used so far (user + system), in ms: robust where wall time is noisy. */
  | { type: 'cpu'; ms: number }
  | { type: 'reload'; samplesMs: number[]; failures: number }
  | { type: 'plugins'; scheduler: string[] };

interface FloorArgs {
  Nodes?: { items?: { metadata?: { name?: string } }[] } | null;
  NodeNames?: string[] | null;
}

function candidateNames(args: FloorArgs): string[] {
  return args.NodeNames ?? (args.Nodes?.items ?? []).map((n) => n.metadata?.name ?? '');
}

/** The least any extender does: parse the body, answer in the wire format with default serialisation. */
async function buildFloor(): Promise<ReturnType<typeof Fastify>> {
  const floor = Fastify({ logger: false, bodyLimit: DEFAULT_BODY_LIMIT });
  floor.post('/scheduler/filter', async (request) => {
    const args = request.body as FloorArgs;
    return args.Nodes != null
      ? { Nodes: args.Nodes, NodeNames: null, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' }
      : { Nodes: null, NodeNames: args.NodeNames ?? [], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' };
  });
  floor.post('/scheduler/prioritize', async (request) => candidateNames(request.body as FloorArgs).map((Host) => ({ Host, Score: 5 })));
  return floor;
}

function memory(): MemorySample {
  // Collect twice: the first pass may only finalise what the second frees.
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
  return {
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    externalMb: mb(m.external),
    heapLimitMb: mb(getHeapStatistics().heap_size_limit),
  };
}

async function main(): Promise<void> {
  const clusterFile = process.argv[2];
  if (clusterFile === undefined) throw new Error('usage: server-process.ts <cluster.json>');
  // The service's own logger at its default level, writing where it cannot slow the machine's terminal.
  const log = pino({ level: process.env['LOG_LEVEL'] ?? 'info', base: { service: 'neuronetes' } }, pino.destination({ dest: '/dev/null', sync: false }));
  const objects = JSON.parse(await readFile(clusterFile, 'utf8')) as ClusterObjects;
  const registry = getGlobalRegistry();
  for (const plugin of syntheticPlugins()) registry.register('scheduler', plugin, 'bench');
  const cluster = new SnapshotSource({ log, objects, watch: false });
  const app = await buildApp({ cluster, logger: log, configPath: SHIPPED_CONFIG, watchConfig: false });
  const floor = await buildFloor();
  await app.listen({ host: '127.0.0.1', port: 0 });
  await floor.listen({ host: '127.0.0.1', port: 0 });
  const portOf = (server: { server: { address(): AddressInfo | string | null } }): number => {
    const address = server.server.address();
    if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
    return address.port;
  };
  const send = (reply: ServerReply): void => void process.send?.(reply);

  process.on('message', (message: ServerRequest) => {
    void (async () => {
      switch (message.type) {
        case 'memory':
          send({ type: 'memory', memory: memory() });
          break;
        case 'cpu': {
          const { user, system } = process.cpuUsage();
          send({ type: 'cpu', ms: (user + system) / 1000 });
          break;
        }
        case 'plugins':
          send({ type: 'plugins', scheduler: app.neuronetes.config.current.plugins.enabled('scheduler').map((p) => p.name) });
          break;
        case 'reload': {
          const samplesMs: number[] = [];
          let failures = 0;
          for (let i = 0; i < message.count; i++) {
            const started = performance.now();
            const result = await app.neuronetes.config.reload();
            samplesMs.push(performance.now() - started);
            if (!result.ok) failures++;
          }
          send({ type: 'reload', samplesMs, failures });
          break;
        }
      }
    })();
  });
  process.on('disconnect', () => {
    void Promise.all([app.close(), floor.close()]).finally(() => process.exit(0));
  });
  send({ type: 'ready', port: portOf(app), floorPort: portOf(floor), nodes: objects.nodes.length, pods: objects.pods.length });
}

if (import.meta.main) await main();
