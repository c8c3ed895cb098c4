/**
 * The KEDA external scaler as KEDA meets it: the real app (buildApp) with its gRPC port on loopback,
 * and a real grpc-js client built from the same externalscaler.proto.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials, type ChannelCredentials, type ClientReadableStream, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { AgentPool } from '../../src/api/neuronetes.ts';
import type { AutoscalerStateStore } from '../../src/autoscaling/autoscaler-state.ts';
import { SnapshotSource } from '../../src/cluster/snapshot-source.ts';
import { loadExternalScaler, type IsActiveResponse, type ScaledObjectRef } from '../../src/keda/external-scaler-proto.ts';
import type { KedaScalerOptions } from '../../src/keda/keda-scaler-plugin.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { buildApp, type NeuroNetesApp } from '../../src/server/app.ts';
import { STATIC_ONLY } from '../autoscaling/helpers.ts';
import { tempDir, type Teardown } from '../helpers/test-app.ts';

/** The generated client: its RPCs are looked up by name. */
export type ServiceClient = InstanceType<ServiceClientConstructor>;

export interface ScalerTest {
  app: NeuroNetesApp;
  cluster: SnapshotSource;
  client: ServiceClient;
  /** Rewrites the cluster snapshot and reloads it (a pool changed in the cluster). */
  setPools(pools: readonly AgentPool[]): Promise<void>;
}

export interface ScalerTestOptions {
  pools: readonly AgentPool[];
  config?: Record<string, unknown>;
  streamIntervalMs?: number;
  tls?: KedaScalerOptions['tls'];
  clientCredentials?: ChannelCredentials;
  store?: AutoscalerStateStore;
}

export async function scalerTest(t: Teardown, options: ScalerTestOptions): Promise<ScalerTest> {
  const clusterDir = await tempDir(t, 'nn-keda-cluster-');
  const configPath = join(await tempDir(t, 'nn-keda-config-'), 'config.yaml');
  const snapshot = join(clusterDir, 'pools.yaml');
  const setPools = (pools: readonly AgentPool[]): Promise<void> => writeFile(snapshot, pools.map((p) => stringify(p)).join('---\n'));
  await setPools(options.pools);
  await writeFile(configPath, stringify(options.config ?? STATIC_ONLY));
  const log = pino({ level: 'silent' });
  const cluster = new SnapshotSource({ path: clusterDir, log, watch: false });
  const app = await buildApp({
    cluster,
    configPath,
    logger: log,
    metrics: createMetrics({ defaultMetrics: false }),
    watchConfig: false,
    keda: {
      port: 0,
      host: '127.0.0.1',
      ...(options.streamIntervalMs !== undefined ? { streamIntervalMs: options.streamIntervalMs } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
    },
    ...(options.store !== undefined ? { autoscalerState: options.store } : {}),
  });
  await app.ready();
  const ExternalScaler = loadExternalScaler();
  const address = options.tls !== undefined ? `localhost:${app.kedaScaler.port}` : `127.0.0.1:${app.kedaScaler.port}`;
  const client = new ExternalScaler(address, options.clientCredentials ?? credentials.createInsecure());
  t.teardown(async () => {
    client.close();
    await app.close();
  });
  return {
    app,
    cluster,
    client,
    setPools: async (pools) => {
      await setPools(pools);
      await cluster.reload();
    },
  };
}

type UnaryMethod<Req, Res> = (request: Req, callback: (err: ServiceError | null, response: Res) => void) => void;

/** One unary RPC through the generic client, as a promise. */
export function call<Req, Res>(client: ServiceClient, method: string, request: Req): Promise<Res> {
  const rpc = client[method] as UnaryMethod<Req, Res>;
  return new Promise((resolve, reject) => rpc.call(client, request, (err, response) => (err !== null ? reject(err) : resolve(response))));
}

export function streamIsActive(client: ServiceClient, request: ScaledObjectRef): ClientReadableStream<IsActiveResponse> {
  const rpc = client['StreamIsActive'] as (request: ScaledObjectRef) => ClientReadableStream<IsActiveResponse>;
  return rpc.call(client, request);
}

/** Waits (bounded) until `condition` holds; no timing is asserted, only that it happens. */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting until ${what}`);
}

export function ref(name: string, namespace: string, scalerMetadata: Record<string, string> = {}): ScaledObjectRef {
  return { name, namespace, scalerMetadata: { scalerAddress: 'neuronetes:9090', ...scalerMetadata } };
}
