#!/usr/bin/env node
/**
 * neuronetes serve | agent | check-config — the command-line entry. Flags win over environment variables,
 * which win over defaults; `neuronetes <command> --help` lists them.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ClusterSource } from './cluster/cluster-source.ts';
import { SnapshotSource } from './cluster/snapshot-source.ts';
import { ConfigStore } from './config/config-store.ts';
import type { KedaScalerOptions } from './keda/keda-scaler-plugin.ts';
import type { CachedModelsPublisher } from './models/cached-models-publisher.ts';
import { DEFAULT_CACHE_DIR } from './models/model-cache.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { BUILTIN_MODULE, PluginModuleLoader } from './plugins/module-loader.ts';
import { getGlobalRegistry } from './plugins/registry.ts';
import { PLUGIN_TYPES } from './plugins/types.ts';
import { checkPluginName, checkPluginType, pluginPackage, writePluginPackage, type ScaffoldVersions } from './scaffold/plugin-package.ts';
import { buildApp, DEFAULT_BODY_BUDGET, DEFAULT_BODY_LIMIT, type BuildAppOptions } from './server/app.ts';
import { listenAll, type ListenerPlan } from './server/listeners.ts';
import { parseDuration } from './util/duration.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', import.meta.url.endsWith('.ts') ? '' : '..');
const DEFAULT_SNAPSHOT = join(ROOT, 'examples', 'cluster');

interface FlagSpec {
  type: 'string' | 'boolean';
  env?: string;
  default?: string;
  help: string;
}

const SERVE_FLAGS: Record<string, FlagSpec> = {
  port: { type: 'string', env: 'PORT', default: '8080', help: 'HTTP(S) port' },
  host: { type: 'string', env: 'HOST', default: '0.0.0.0', help: 'address to listen on' },
  config: {
    type: 'string',
    env: 'NEURONETES_CONFIG',
    help: 'plugin config: a YAML file, a ConfigMap manifest, or a mounted ConfigMap folder (hot-reloaded); without it, the documented defaults',
  },
  plugins: { type: 'string', env: 'NEURONETES_PLUGINS', help: 'comma-separated plugin modules to import (npm packages, paths, neuronetes:<path>)' },
  cluster: { type: 'string', env: 'NEURONETES_CLUSTER', default: 'snapshot', help: 'cluster source: snapshot | kubernetes' },
  snapshot: { type: 'string', env: 'NEURONETES_SNAPSHOT', help: `snapshot folder or file of Kubernetes YAML (default: the bundled example cluster)` },
  kubeconfig: { type: 'string', env: 'KUBECONFIG', help: 'kubeconfig for --cluster kubernetes (in-cluster config when unset inside a pod)' },
  'stale-after': {
    type: 'string',
    env: 'NEURONETES_STALE_AFTER',
    default: '2m',
    help: '--cluster kubernetes: /readyz fails when an informer saw no event or reconnect for this long (at least 45s: quiet watches reconnect every 30s)',
  },
  'lease-namespace': {
    type: 'string',
    env: 'POD_NAMESPACE',
    default: 'neuronetes-system',
    help: '--cluster kubernetes: namespace of the leader-election Lease (only the leader writes)',
  },
  'tls-cert': { type: 'string', env: 'NEURONETES_TLS_CERT', help: 'serve HTTPS with this certificate (PEM)' },
  'tls-key': { type: 'string', env: 'NEURONETES_TLS_KEY', help: 'private key for --tls-cert (PEM)' },
  'tls-client-ca': { type: 'string', env: 'NEURONETES_TLS_CLIENT_CA', help: 'require client certificates signed by this CA (mTLS)' },
  'body-limit': {
    type: 'string',
    env: 'NEURONETES_BODY_LIMIT',
    default: String(DEFAULT_BODY_LIMIT),
    help: 'largest body of filter, prioritize and preempt in bytes (full-node mode sends whole NodeLists); other routes take at most 4 MiB',
  },
  'body-budget': {
    type: 'string',
    env: 'NEURONETES_BODY_BUDGET',
    default: String(DEFAULT_BODY_BUDGET),
    help: 'request-body bytes held at once across all requests; a body that would exceed it gets 503',
  },
  'request-timeout': { type: 'string', env: 'NEURONETES_REQUEST_TIMEOUT', default: '10s', help: 'time for a whole request, headers and body, to arrive' },
  'shutdown-timeout': {
    type: 'string',
    env: 'NEURONETES_SHUTDOWN_TIMEOUT',
    default: '10s',
    help: 'on SIGTERM, how long requests in flight may take to finish before their connections are cut',
  },
  'ops-port': {
    type: 'string',
    env: 'NEURONETES_OPS_PORT',
    default: 'off',
    help: 'plain-HTTP port for /healthz, /readyz and /metrics (probes and Prometheus, no client certificate)',
  },
  'ops-host': { type: 'string', env: 'NEURONETES_OPS_HOST', default: '0.0.0.0', help: 'address of the ops listener' },
  'admin-port': {
    type: 'string',
    env: 'NEURONETES_ADMIN_PORT',
    default: 'off',
    help: 'plain-HTTP port serving everything, /debug and the autoscaler\'s "now" included',
  },
  'admin-host': {
    type: 'string',
    env: 'NEURONETES_ADMIN_HOST',
    default: '127.0.0.1',
    help: 'address of the admin listener (keep it loopback: reach it with kubectl port-forward)',
  },
  help: { type: 'boolean', help: 'show this help' },
};

/** The node agent (a DaemonSet) listens on its own port, so it can share a host with `serve`. */
const AGENT_FLAGS: Record<string, FlagSpec> = {
  ...SERVE_FLAGS,
  port: { type: 'string', env: 'NEURONETES_AGENT_PORT', default: '8081', help: 'HTTP(S) port of the node agent' },
  'cache-dir': { type: 'string', env: 'NEURONETES_CACHE_DIR', default: DEFAULT_CACHE_DIR, help: 'the node model cache: <cache-dir>/<model>' },
  'node-name': { type: 'string', env: 'NODE_NAME', help: 'this Node (downward API spec.nodeName; default: the host name)' },
  'publish-to-node': {
    type: 'boolean',
    env: 'NEURONETES_PUBLISH_TO_NODE',
    help: 'annotate this Node with the cached models (neuronetes.io/cached-models); needs in-cluster config or --kubeconfig',
  },
};

/** Only `serve` offers KEDA's external scaler: the node agent scales nothing. */
const KEDA_FLAGS: Record<string, FlagSpec> = {
  'keda-grpc-port': {
    type: 'string',
    env: 'NEURONETES_KEDA_GRPC_PORT',
    help: "also serve KEDA's external scaler (gRPC) on this port; the TLS flags apply to it too (off when unset)",
  },
  'keda-stream-interval': { type: 'string', env: 'NEURONETES_KEDA_STREAM_INTERVAL', default: '15s', help: 'how often StreamIsActive pushes to KEDA' },
};

/** Only `serve` scales pools, and only with the Kubernetes source. */
const ACTUATOR_FLAGS: Record<string, FlagSpec> = {
  actuate: {
    type: 'boolean',
    env: 'NEURONETES_ACTUATE',
    help: '--cluster kubernetes: the leader writes each AgentPool decision to its scale subresource and status (off by default)',
  },
  'actuate-interval': { type: 'string', env: 'NEURONETES_ACTUATE_INTERVAL', default: '15s', help: 'how often the actuator decides for every pool' },
  'manage-pools': {
    type: 'string',
    env: 'NEURONETES_MANAGE_POOLS',
    default: 'true',
    help: "--cluster kubernetes: the leader scales each pool's scaleTargetRef to spec.replicas and keeps the pool's status, conditions and Events",
  },
  'pools-interval': {
    type: 'string',
    env: 'NEURONETES_POOLS_INTERVAL',
    default: '15s',
    help: "how often the pool controller reads every pool's target (pod changes are counted at once)",
  },
  'model-status': {
    type: 'string',
    env: 'NEURONETES_MODEL_STATUS',
    default: 'true',
    help: "--cluster kubernetes: the leader keeps each Model's status.phase and status.cachedNodes from the Nodes' neuronetes.io/cached-models annotations",
  },
};

/** The model status controller's full round, beside the rounds Node and Model changes start at once. */
const MODEL_STATUS_INTERVAL_MS = 60_000;

const flagsOf = (command: string | undefined): Record<string, FlagSpec> =>
  command === 'agent' ? AGENT_FLAGS : command === 'serve' ? { ...SERVE_FLAGS, ...KEDA_FLAGS, ...ACTUATOR_FLAGS } : SERVE_FLAGS;

const PLUGIN_NEW_USAGE = 'plugin new <type> <name> [--dir <path>]';

const COMMANDS: Record<string, string> = {
  serve: 'run the extender, autoscaling and guardrail API',
  agent: 'run the node agent: load and unload models in this node cache (/models)',
  'check-config': 'validate a plugin config (--config) and exit',
  plugin: `${PLUGIN_NEW_USAGE}: write a plugin package (package.json, typed plugin, test, README)`,
};

function usage(command?: string): string {
  const lines = [`usage: neuronetes <command> [flags]`, '', 'commands:'];
  for (const [c, h] of Object.entries(COMMANDS)) lines.push(`  ${c.padEnd(14)} ${h}`);
  if (command !== undefined) {
    lines.push('', `flags for ${command}:`);
    for (const [name, f] of Object.entries(flagsOf(command))) {
      const env = f.env !== undefined ? ` [$${f.env}]` : '';
      const def = f.default !== undefined ? ` (default ${f.default})` : '';
      lines.push(`  --${name.padEnd(14)} ${f.help}${env}${def}`);
    }
  }
  lines.push('', 'LOG_LEVEL sets the log level (fatal, error, warn, info, debug, trace, silent).');
  return lines.join('\n');
}

type Flags = Record<string, string | boolean | undefined>;

function readFlags(command: string, argv: string[]): Flags {
  const specs = flagsOf(command);
  const options: ParseArgsConfig['options'] = {};
  for (const [name, f] of Object.entries(specs)) options[name] = { type: f.type };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  const flags: Flags = {};
  for (const [name, f] of Object.entries(specs)) {
    const v = values[name];
    flags[name] = (typeof v === 'string' || typeof v === 'boolean' ? v : undefined) ?? (f.env !== undefined ? process.env[f.env] : undefined) ?? f.default;
  }
  return flags;
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The node agent reads Models only; everything else of the cluster is `serve`'s. */
async function agentModelSource(flags: Flags, log: ReturnType<typeof createLogger>, staleAfterMs: number): Promise<ClusterSource> {
  const [{ loadKubeConfig }, { KubernetesModelSource }] = await Promise.all([import('./cluster/kube-api.ts'), import('./models/model-source.ts')]);
  return new KubernetesModelSource({ kubeConfig: loadKubeConfig(str(flags['kubeconfig'])), log, staleAfterMs });
}

/** How often the pool controller syncs, or undefined when it is off (and always for `agent`, which has no pool flags). */
function poolControllerInterval(flags: Flags): number | undefined {
  if (flags['manage-pools'] === undefined || !bool('manage-pools', flags['manage-pools'])) return undefined;
  const intervalMs = parseDuration(String(flags['pools-interval']));
  if (intervalMs < 1_000) throw new Error(`--pools-interval must be at least 1s, not ${String(flags['pools-interval'])}`);
  return intervalMs;
}

/** The cluster source and, with --cluster kubernetes, the pools' target client and controller. */
type ClusterOptions = { cluster: ClusterSource } & Pick<BuildAppOptions, 'scaleTargets' | 'poolController' | 'modelStatus'>;

async function createClusterSource(flags: Flags, log: ReturnType<typeof createLogger>, role: 'serve' | 'agent'): Promise<ClusterOptions> {
  const kind = str(flags['cluster']);
  if (kind === 'kubernetes') {
    const staleAfterMs = parseDuration(String(flags['stale-after']));
    if (staleAfterMs < 45_000) throw new Error(`--stale-after must be at least 45s, not ${String(flags['stale-after'])}`);
    if (role === 'agent') return { cluster: await agentModelSource(flags, log, staleAfterMs) };
    const poolsIntervalMs = poolControllerInterval(flags);
    const modelStatus =
      flags['model-status'] !== undefined && bool('model-status', flags['model-status']) ? { intervalMs: MODEL_STATUS_INTERVAL_MS } : undefined;
    // Loaded on demand: @kubernetes/client-node takes seconds to import, and snapshot mode never needs it.
    const [{ loadKubeConfig }, { KubernetesSource, LEADER_LEASE_NAME }, { KubernetesScaleTargets }, { KubernetesPoolEvents }] = await Promise.all([
      import('./cluster/kube-api.ts'),
      import('./cluster/kubernetes-source.ts'),
      import('./pools/scale-target.ts'),
      import('./pools/pool-events.ts'),
    ]);
    const kubeConfig = loadKubeConfig(str(flags['kubeconfig']));
    const identity = `${hostname()}_${randomUUID().slice(0, 8)}`;
    const cluster = new KubernetesSource({
      kubeConfig,
      log,
      staleAfterMs,
      leaderElection: { namespace: String(flags['lease-namespace']), name: LEADER_LEASE_NAME, identity },
    });
    const scaleTargets = new KubernetesScaleTargets(kubeConfig);
    return {
      cluster,
      scaleTargets,
      ...(poolsIntervalMs !== undefined
        ? { poolController: { intervalMs: poolsIntervalMs, events: new KubernetesPoolEvents(kubeConfig, log, identity) } }
        : {}),
      ...(modelStatus !== undefined ? { modelStatus } : {}),
    };
  }
  if (kind !== 'snapshot') throw new Error(`--cluster must be snapshot or kubernetes, not ${JSON.stringify(kind)}`);
  return { cluster: new SnapshotSource({ path: str(flags['snapshot']) ?? DEFAULT_SNAPSHOT, log }) };
}

function kedaOptions(flags: Flags, https: { cert: Buffer; key: Buffer; ca?: Buffer } | undefined): KedaScalerOptions | undefined {
  const raw = str(flags['keda-grpc-port']);
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--keda-grpc-port must be 0..65535, not ${raw}`);
  const streamIntervalMs = parseDuration(String(flags['keda-stream-interval']));
  if (streamIntervalMs <= 0) throw new Error('--keda-stream-interval must be positive');
  const tls = https !== undefined ? { cert: https.cert, key: https.key, ...(https.ca !== undefined ? { clientCa: https.ca } : {}) } : undefined;
  return { port, host: String(flags['host']), streamIntervalMs, ...(tls !== undefined ? { tls } : {}) };
}

/** A boolean flag, or its environment variable's text. */
function bool(name: string, v: string | boolean | undefined): boolean {
  if (typeof v === 'boolean') return v;
  if (v === undefined || ['', 'false', '0'].includes(v)) return false;
  if (['true', '1'].includes(v)) return true;
  throw new Error(`--${name} must be true or false, not ${JSON.stringify(v)}`);
}

function actuatorOptions(flags: Flags): BuildAppOptions['actuator'] {
  if (!bool('actuate', flags['actuate'])) return undefined;
  if (str(flags['cluster']) !== 'kubernetes') throw new Error('--actuate needs --cluster kubernetes');
  const intervalMs = parseDuration(String(flags['actuate-interval']));
  if (intervalMs < 1_000) throw new Error(`--actuate-interval must be at least 1s, not ${String(flags['actuate-interval'])}`);
  return { intervalMs };
}

/** The agent's Node annotation publisher, only where there is an API server to reach. */
async function nodePublisher(flags: Flags): Promise<{ publisher?: CachedModelsPublisher }> {
  if (!bool('publish-to-node', flags['publish-to-node'])) return {};
  const kubeconfig = str(flags['kubeconfig']);
  if (kubeconfig === undefined && process.env['KUBERNETES_SERVICE_HOST'] === undefined)
    throw new Error('--publish-to-node needs in-cluster config (KUBERNETES_SERVICE_HOST) or --kubeconfig');
  const [{ loadKubeConfig }, { NodeAnnotationPublisher }] = await Promise.all([
    import('./cluster/kube-api.ts'),
    import('./models/node-annotation-publisher.ts'),
  ]);
  return { publisher: new NodeAnnotationPublisher(loadKubeConfig(kubeconfig)) };
}

function portFlag(name: string, v: string | boolean | undefined): number {
  const port = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--${name} must be 0..65535, not ${String(v)}`);
  return port;
}

function positiveInteger(name: string, v: string | boolean | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${String(v)}`);
  return n;
}

function positiveDuration(name: string, v: string | boolean | undefined): number {
  const ms = parseDuration(String(v));
  if (ms <= 0) throw new Error(`--${name} must be positive, not ${String(v)}`);
  return ms;
}

/** The API listener, and the ops and admin listeners unless their port is `off`. */
function listenerPlan(flags: Flags): ListenerPlan {
  const plan: ListenerPlan = { api: { host: String(flags['host']), port: portFlag('port', flags['port']) } };
  for (const listener of ['ops', 'admin'] as const) {
    const raw = flags[`${listener}-port`];
    if (raw === 'off' || raw === undefined) continue;
    plan[listener] = { host: String(flags[`${listener}-host`]), port: portFlag(`${listener}-port`, raw) };
  }
  return plan;
}

/** SIGTERM/SIGINT: stop accepting, let calls in flight finish (at most `drainMs`), exit 0 when they did. */
function exitOnSignal(close: (drainMs: number) => Promise<boolean>, drainMs: number, log: ReturnType<typeof createLogger>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal, drainMs }, 'shutting down: draining requests in flight');
      close(drainMs).then(
        (drained) => {
          if (!drained) log.warn({ drainMs }, 'requests still in flight after the shutdown timeout were cut');
          process.exit(drained ? 0 : 1);
        },
        (e: unknown) => {
          log.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

async function serve(flags: Flags, agent?: BuildAppOptions['agent']): Promise<void> {
  const log = createLogger();
  const plan = listenerPlan(flags);
  const bodyLimit = positiveInteger('body-limit', flags['body-limit']);
  const bodyBudget = positiveInteger('body-budget', flags['body-budget']);
  if (bodyBudget < bodyLimit)
    throw new Error(`--body-budget (${bodyBudget}) must be at least --body-limit (${bodyLimit}), or no full-size body could ever be received`);
  const requestTimeoutMs = positiveDuration('request-timeout', flags['request-timeout']);
  const drainMs = positiveDuration('shutdown-timeout', flags['shutdown-timeout']);
  const cert = str(flags['tls-cert']);
  const key = str(flags['tls-key']);
  const clientCa = str(flags['tls-client-ca']);
  if ((cert === undefined) !== (key === undefined)) throw new Error('--tls-cert and --tls-key go together');
  const https =
    cert !== undefined && key !== undefined
      ? {
          cert: await readFile(cert),
          key: await readFile(key),
          ...(clientCa !== undefined ? { ca: await readFile(clientCa), requestCert: true, rejectUnauthorized: true } : {}),
        }
      : undefined;
  const keda = kedaOptions(flags, https);
  const actuator = actuatorOptions(flags);
  const clusterOptions = await createClusterSource(flags, log, agent !== undefined ? 'agent' : 'serve');
  const configPath = str(flags['config']);
  const app = await buildApp({
    ...clusterOptions,
    logger: log,
    bodyLimit,
    bodyBudget,
    requestTimeoutMs,
    extraModules: pluginFlag(flags),
    ...(configPath !== undefined ? { configPath } : {}),
    ...(https !== undefined ? { https } : {}),
    ...(agent !== undefined ? { agent } : {}),
    ...(keda !== undefined ? { keda } : {}),
    ...(actuator !== undefined ? { actuator } : {}),
  });
  const listening = await listenAll(app, plan, requestTimeoutMs);
  exitOnSignal(listening.close, drainMs, log);
}

/** Loads the config as `serve` would (modules imported, plugin names checked) and reports. */
async function checkConfig(flags: Flags): Promise<void> {
  const path = str(flags['config']);
  if (path === undefined) throw new Error('check-config needs --config <path>');
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'warn');
  const registry = getGlobalRegistry();
  const store = new ConfigStore({
    registry,
    loader: new PluginModuleLoader(registry),
    metrics: createMetrics({ defaultMetrics: false }),
    log,
    path,
    extraModules: [BUILTIN_MODULE, ...pluginFlag(flags)],
  });
  await store.load();
  const counts = PLUGIN_TYPES.map((t) => `${store.current.plugins.enabled(t).length} ${t}`).join(', ');
  process.stdout.write(`${path}: valid; enabled plugins: ${counts}\n`);
}

/** The version ranges a new plugin package asks for: this neuronetes, and the TypeBox and TypeScript it is built with. */
async function scaffoldVersions(): Promise<ScaffoldVersions> {
  type Manifest = { version: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  const own = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Manifest;
  const range = (deps: Record<string, string> | undefined, name: string): string => {
    const r = deps?.[name];
    if (r === undefined) throw new Error(`neuronetes' package.json names no version of ${name}`);
    return r;
  };
  return {
    neuronetes: `^${own.version}`,
    typebox: range(own.dependencies, 'typebox'),
    typescript: range(own.devDependencies, 'typescript'),
    typesNode: range(own.devDependencies, '@types/node'),
  };
}

/** `plugin new <type> <name> [--dir <path>]`; 2 on a usage error, as the other commands. */
async function pluginCommand(argv: string[]): Promise<number> {
  const usageLine = `usage: neuronetes ${PLUGIN_NEW_USAGE}\n  <type>  one of ${PLUGIN_TYPES.join(', ')}\n  --dir   the package's folder, missing or empty (default ./<name>)`;
  let dir: string | undefined;
  let type: ReturnType<typeof checkPluginType>;
  let name: string;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { dir: { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(`${usageLine}\n`);
      return 0;
    }
    const [sub, rawType, rawName, ...extra] = positionals;
    if (sub !== 'new') throw new Error(`unknown plugin command ${JSON.stringify(sub ?? '')}`);
    if (extra.length > 0) throw new Error(`unexpected ${extra.map((e) => JSON.stringify(e)).join(' ')}`);
    type = checkPluginType(rawType);
    name = checkPluginName(rawName);
    dir = values.dir;
  } catch (e: unknown) {
    process.stderr.write(`${(e as Error).message}\n\n${usageLine}\n`);
    return 2;
  }
  const target = dir ?? name;
  await writePluginPackage(target, pluginPackage(type, name, await scaffoldVersions()));
  process.stdout.write(`wrote ${type} plugin "${name}" to ${target}; next: cd ${target} && npm install && npm run build && npm test\n`);
  return 0;
}

function pluginFlag(flags: Flags): string[] {
  return (str(flags['plugins']) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${usage()}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!(command in COMMANDS)) {
    process.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${usage()}\n`);
    return 2;
  }
  if (command === 'plugin') return pluginCommand(rest);
  let flags: Flags;
  try {
    flags = readFlags(command, rest);
  } catch (e: unknown) {
    process.stderr.write(`${(e as Error).message}\n\n${usage(command)}\n`);
    return 2;
  }
  if (flags['help'] === true) {
    process.stdout.write(`${usage(command)}\n`);
    return 0;
  }
  if (command === 'serve') await serve(flags);
  else if (command === 'agent')
    await serve(flags, {
      cacheDir: str(flags['cache-dir']) ?? DEFAULT_CACHE_DIR,
      nodeName: str(flags['node-name']) ?? hostname(),
      ...(await nodePublisher(flags)),
    });
  else await checkConfig(flags);
  return command === 'check-config' ? 0 : -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`neuronetes: ${(e as Error).message}\n`);
    // Now, not when the loop drains: a watcher or timer left running would keep a failed pod alive.
    process.exit(1);
  },
);
