/**
 * One extender for the scheduler-throughput bench, in a process of its own so it has a core's worth
 * of event loop to itself, as in a cluster (and can be run under --cpu-prof):
 *   node bench/extender-process.ts --kind trivial|neuronetes --port N --kubeconfig FILE [--config FILE]
 * Stops on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../src/cluster/kube-api.ts';
import { KubernetesSource } from '../src/cluster/kubernetes-source.ts';
import { createLogger } from '../src/observability/logger.ts';
import { buildApp } from '../src/server/app.ts';
import { trivialExtender } from './trivial-extender.ts';

const { values } = parseArgs({
  options: { kind: { type: 'string' }, port: { type: 'string' }, kubeconfig: { type: 'string' }, config: { type: 'string' } },
});
const port = Number(values.port);
// As the service loads it, for both extenders: API calls share one connection pool.
const kc = loadKubeConfig(values.kubeconfig ?? '');
let close: () => Promise<void>;
if (values.kind === 'trivial') {
  const server = trivialExtender(kc);
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  close = () => new Promise((ok) => server.close(() => ok()));
} else if (values.kind === 'neuronetes') {
  // Requests are not logged one by one: the bench measures the chain, not log volume.
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'warn');
  const app = await buildApp({
    cluster: new KubernetesSource({ kubeConfig: kc, log }),
    logger: log,
    ...(values.config !== undefined ? { configPath: values.config } : {}),
  });
  await app.listen({ port, host: '127.0.0.1' });
  close = () => app.close();
} else {
  throw new Error(`--kind must be trivial or neuronetes, not ${JSON.stringify(values.kind)}`);
}
// --cpu-prof writes its profile on a normal exit, so SIGTERM ends the process by returning.
process.once('SIGTERM', () => void close().then(() => process.exit(0)));
