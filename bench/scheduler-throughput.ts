/**
 * The figure users feel: the real kube-scheduler's throughput (pods bound per second, from the first
 * pod created to the last bound) on one control plane with many GPU nodes, with no extender, with a
 * trivial extender (the protocol's floor) and with NeuroNetes (the shipped config and full default
 * chain), in names (nodeCacheCapable, extender binds) and full-node modes.
 *   npm run bench:scheduler -- [--nodes 1000] [--pods 500] [--rounds 1] [--only a,c] [--cpu-prof DIR]
 * Each configuration gets a kube-scheduler (and extender process) of its own, started, warmed up,
 * measured and stopped by pid before the next; pods are deleted in between.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { request } from 'undici';
import { parse } from 'yaml';
import type { Pod } from '../src/api/kubernetes.ts';
import { Annotations, Labels } from '../src/api/neuronetes.ts';
import { eventually, findKubeBinaries, forEachConcurrently, freePort, Proc, startControlPlane, type ControlPlane } from '../test/e2e/control-plane.ts';
import { applyCrds, createAgentObjects, createGpuNodes, createNamespace, createPod, type NodeShape } from '../test/e2e/kube-fixtures.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..');
const NAMESPACE = 'bench';
export const POOL = 'chat';
/** The pool createAgentObjects makes asks for one A100: the chain must keep pods off the L4 nodes. */
export const POOL_GPU_TYPE = 'A100';
const WRITE_CONCURRENCY = 16;
/**
 * kube-scheduler's client rate limits (defaults qps 50, burst 100), set far above what 2 cores can
 * bind so that they are not what is measured.
 */
export const CLIENT_CONNECTION = { qps: 5000, burst: 5000 };
const SCHEDULER_VERBOSITY = 1;
const WARMUP_PODS = 10;

export type ConfigurationId = 'a' | 'b' | 'c' | 'd' | 'e';
interface Configuration {
  readonly id: ConfigurationId;
  readonly label: string;
  readonly extender?: 'trivial' | 'neuronetes';
  readonly mode?: 'names' | 'nodes';
}

export const CONFIGURATIONS: readonly Configuration[] = [
  { id: 'a', label: 'no extender' },
  { id: 'b', label: 'trivial extender, names', extender: 'trivial', mode: 'names' },
  { id: 'c', label: 'NeuroNetes, names', extender: 'neuronetes', mode: 'names' },
  { id: 'd', label: 'trivial extender, full nodes', extender: 'trivial', mode: 'nodes' },
  { id: 'e', label: 'NeuroNetes, full nodes', extender: 'neuronetes', mode: 'nodes' },
];

/** Node i: mostly 8×A100, every tenth 4×L4; zones, interconnects, prices and a warm model vary. */
export function benchNodeShape(i: number): NodeShape {
  const l4 = i % 10 === 9;
  return {
    gpus: l4 ? 4 : 8,
    gpuType: l4 ? 'L4' : POOL_GPU_TYPE,
    labels: {
      [Labels.zone]: `zone-${i % 3}`,
      [Labels.gpuTopology]: i % 2 === 0 ? 'nvlink' : 'pcie',
      [Labels.instanceType]: l4 ? 'g6.12xlarge' : 'p4d.24xlarge',
      [Labels.costPerHour]: l4 ? '4.6' : String(30 + (i % 5)),
    },
    ...(i % 5 === 0 ? { annotations: { [Annotations.cachedModels]: 'llama' } } : {}),
  };
}

export const benchNodeName = (i: number): string => `gpu-${String(i).padStart(5, '0')}`;

export interface SchedulerThroughputOptions {
  nodes: number;
  pods: number;
  /** Which configurations, in this order (default all five). */
  configurations?: readonly ConfigurationId[];
  /** Every configuration is measured this many times, round after round (default 1); the median is reported. */
  rounds?: number;
  /** Run each extender process under --cpu-prof, profiles written here. */
  cpuProfDir?: string;
  log?: (line: string) => void;
}

export interface ConfigurationResult {
  id: ConfigurationId;
  label: string;
  pods: number;
  /** Median over rounds of pods / seconds from first create to last bound. */
  podsPerSecond: number;
  /** Median over rounds of the CPU time each process used per pod while the pods were placed (ms). */
  cpuMsPerPod: CpuPerPod;
  rounds: Round[];
  /** Pod → node of the last round. */
  placements: Record<string, string>;
}

/** CPU per pod of the configuration's own processes; the API server and etcd are shared by all. */
export interface CpuPerPod {
  scheduler?: number;
  extender?: number;
}

interface Round {
  seconds: number;
  podsPerSecond: number;
  createSeconds: number;
  cpuMsPerPod: CpuPerPod;
}

export interface SchedulerThroughputResult {
  when: string;
  machine: { cpus: number; model: string; loadavg1mAtStart: number; loadavg1mAtEnd: number; node: string };
  nodes: number;
  pods: number;
  clientConnection: typeof CLIENT_CONNECTION;
  results: ConfigurationResult[];
  /**
   * NeuroNetes ÷ trivial extender bound/s, per mode, where both ran: the median over rounds of the
   * two measured in the same round, back to back, so that each ratio compares runs that shared the
   * machine's load (a ratio of the two medians may pair a quiet round of one with a busy one of the other).
   */
  ratios: { names?: number; nodes?: number };
}

/** The median over rounds of `ours` ÷ `trivial` measured in the same round (see `ratios`). */
export function pairedRatio(ours: readonly { podsPerSecond: number }[], trivial: readonly { podsPerSecond: number }[]): number {
  return median(ours.map((r, i) => r.podsPerSecond / (trivial[i] as { podsPerSecond: number }).podsPerSecond));
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function schedulerConfig(c: Configuration, schedulerName: string, extenderUrl: string | undefined): Promise<Record<string, unknown>> {
  const base = {
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: CLIENT_CONNECTION,
    profiles: [{ schedulerName }],
  };
  if (c.extender === undefined || extenderUrl === undefined) return base;
  // The shipped file with only the URL changed: the same verbs, weight, modes and timeouts users get.
  const file = c.mode === 'names' ? 'scheduler-config.yaml' : 'scheduler-config-full-nodes.yaml';
  const shipped = parse(await readFile(join(REPO, 'scheduler-config', file), 'utf8')) as { extenders: Record<string, unknown>[] };
  return { ...shipped, ...base, extenders: shipped.extenders.map((e) => ({ ...e, urlPrefix: `${extenderUrl}/scheduler` })) };
}

async function startExtender(cp: ControlPlane, c: Configuration, cpuProfDir: string | undefined): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [join(HERE, 'extender-process.ts'), '--kind', c.extender ?? '', '--port', String(port), '--kubeconfig', cp.kubeconfigPath];
  if (c.extender === 'neuronetes') args.push('--config', join(REPO, 'examples', 'config', 'neuronetes.yaml'));
  const prof = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=extender-${c.id}-${Date.now()}.cpuprofile`];
  const proc = new Proc(`extender-${c.id}`, process.execPath, [...prof, ...args], join(cp.dir, `extender-${c.id}.log`));
  // The trivial server answers 404 on /readyz once listening; ours answers 200 once its informers have synced.
  await eventually(
    `extender ${c.id} to be ready`,
    async () => {
      if (!proc.running) throw new Error(`extender ${c.id} exited:\n${await proc.tail()}`);
      const { statusCode, body } = await request(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await body.dump();
      return statusCode === 200 || (c.extender === 'trivial' && statusCode === 404) ? true : undefined;
    },
    120_000,
    250,
  );
  return { proc, url };
}

/** Watches the namespace's pods; `bound` resolves once every named pod has a node. */
async function watchBindings(
  kc: KubeConfig,
  names: readonly string[],
  timeoutMs: number,
): Promise<{ bound: Promise<Map<string, { node: string; at: number }>>; stop: () => void }> {
  const want = new Set(names);
  const seen = new Map<string, { node: string; at: number }>();
  let settle: (v: Map<string, { node: string; at: number }>) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const bound = new Promise<Map<string, { node: string; at: number }>>((ok, no) => ((settle = ok), (fail = no)));
  const check = (): void => {
    if (seen.size === want.size) settle(seen);
  };
  let controller: AbortController | undefined;
  let stopped = false;
  // "Any" version first: a fresh API server's pod watch cache may lag etcd, and a watch from "now"
  // would wait on it and time out ("Too large resource version"). Then from the last event seen.
  let since = '0';
  const open = async (): Promise<void> => {
    controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${NAMESPACE}/pods`,
      { resourceVersion: since },
      (phase: string, pod: Pod) => {
        if (phase === 'ERROR') {
          // 410 Gone: the version is too old to resume from; the watch ends and starts over.
          if ((pod as { code?: number }).code === 410) since = '0';
          else fail(new Error(`pod watch failed: ${JSON.stringify(pod)}`));
          return;
        }
        since = pod.metadata.resourceVersion ?? since;
        const name = pod.metadata.name ?? '';
        const node = pod.spec?.nodeName;
        if (want.has(name) && node !== undefined && node !== '' && !seen.has(name)) {
          seen.set(name, { node, at: performance.now() });
          check();
        }
      },
      () => {
        // API servers end watches (request timeouts, load); like an informer, watch again from there.
        if (!stopped && seen.size < want.size) open().catch((e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
      },
    );
  };
  await open();
  const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs}ms with ${seen.size}/${want.size} pods bound`)), timeoutMs);
  const settled = bound.finally(() => clearTimeout(timer));
  settled.catch(() => {}); // awaited after the pods are created; a failure meanwhile is not unhandled
  return {
    bound: settled,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
    },
  };
}

async function createPods(kc: KubeConfig, names: readonly string[], schedulerName: string): Promise<void> {
  await forEachConcurrently(names, WRITE_CONCURRENCY, async (name) => {
    await createPod(kc, NAMESPACE, name, { gpus: 1, pool: POOL, schedulerName });
  });
}

type Measured = Omit<Round, 'podsPerSecond'> & { placements: Record<string, string> };

/**
 * Creates the pods and waits until all are bound; returns the time from the first create to the last
 * bind, and the CPU the processes in `procs` used meanwhile, per pod.
 */
async function measure(kc: KubeConfig, names: readonly string[], schedulerName: string, procs: { scheduler?: Proc; extender?: Proc } = {}): Promise<Measured> {
  const watch = await watchBindings(kc, names, Math.max(120_000, names.length * 1_000));
  const cpu = async (): Promise<Record<string, number | undefined>> =>
    Object.fromEntries(await Promise.all(Object.entries(procs).map(async ([role, proc]) => [role, await proc.cpuMs()] as const)));
  try {
    const cpuBefore = await cpu();
    const started = performance.now();
    await createPods(kc, names, schedulerName);
    const created = performance.now();
    const bound = await watch.bound;
    const last = Math.max(...[...bound.values()].map((b) => b.at));
    const cpuAfter = await cpu();
    const cpuMsPerPod: CpuPerPod = {};
    for (const role of ['scheduler', 'extender'] as const) {
      const before = cpuBefore[role];
      const after = cpuAfter[role];
      if (before !== undefined && after !== undefined) cpuMsPerPod[role] = (after - before) / names.length;
    }
    return {
      seconds: (last - started) / 1000,
      createSeconds: (created - started) / 1000,
      cpuMsPerPod,
      placements: Object.fromEntries([...bound].map(([pod, b]) => [pod, b.node])),
    };
  } finally {
    watch.stop();
  }
}

async function deleteAllPods(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  // Grace 0: no kubelet will ever confirm these pods stopped.
  await core.deleteCollectionNamespacedPod({ namespace: NAMESPACE, gracePeriodSeconds: 0 });
  await eventually(
    'bench pods to be deleted',
    async () => ((await core.listNamespacedPod({ namespace: NAMESPACE })).items.length === 0 ? true : undefined),
    120_000,
    250,
  );
}

async function runConfiguration(
  cp: ControlPlane,
  kc: KubeConfig,
  c: Configuration,
  round: number,
  pods: number,
  cpuProfDir: string | undefined,
): Promise<Measured> {
  const started: Proc[] = [];
  try {
    const extender = c.extender === undefined ? undefined : await startExtender(cp, c, cpuProfDir);
    if (extender !== undefined) started.push(extender.proc);
    const schedulerName = `bench-${c.id}`;
    const scheduler = await cp.startScheduler(`scheduler-${c.id}-${round}`, await schedulerConfig(c, schedulerName, extender?.url), {
      verbosity: SCHEDULER_VERBOSITY,
    });
    started.push(scheduler);
    // Warm-up: the scheduler's informers synced, both processes' code hot, before the clock starts.
    await measure(
      kc,
      Array.from({ length: WARMUP_PODS }, (_, i) => `warmup-${c.id}-${round}-${i}`),
      schedulerName,
    );
    await deleteAllPods(kc);
    const names = Array.from({ length: pods }, (_, i) => `agent-${c.id}-${round}-${String(i).padStart(4, '0')}`);
    const result = await measure(kc, names, schedulerName, { scheduler, ...(extender !== undefined ? { extender: extender.proc } : {}) });
    await deleteAllPods(kc);
    return result;
  } finally {
    for (const p of started.reverse()) await p.stop();
  }
}

export async function runSchedulerThroughput(options: SchedulerThroughputOptions): Promise<SchedulerThroughputResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bins = findKubeBinaries();
  if ('skip' in bins) throw new Error(bins.skip);
  const chosen = (options.configurations ?? CONFIGURATIONS.map((c) => c.id)).map((id) => {
    const c = CONFIGURATIONS.find((x) => x.id === id);
    if (c === undefined) throw new Error(`unknown configuration ${JSON.stringify(id)}; one of ${CONFIGURATIONS.map((x) => x.id).join(', ')}`);
    return c;
  });
  const rounds = options.rounds ?? 1;
  if (options.cpuProfDir !== undefined) await mkdir(options.cpuProfDir, { recursive: true });
  const loadavg1mAtStart = loadavg()[0] ?? 0;
  const cp = await startControlPlane(bins);
  try {
    const kc = cp.kubeConfig();
    await applyCrds(kc);
    await createNamespace(kc, NAMESPACE);
    await createAgentObjects(kc, NAMESPACE, POOL);
    const t0 = performance.now();
    await createGpuNodes(
      kc,
      Array.from({ length: options.nodes }, (_, i) => ({ name: benchNodeName(i), shape: benchNodeShape(i) })),
      WRITE_CONCURRENCY,
    );
    log(`created ${options.nodes} GPU nodes in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    const runs = new Map<ConfigurationId, Round[]>();
    const placements = new Map<ConfigurationId, Record<string, string>>();
    for (let round = 0; round < rounds; round++) {
      for (const c of chosen) {
        const r = await runConfiguration(cp, kc, c, round, options.pods, options.cpuProfDir);
        const podsPerSecond = options.pods / r.seconds;
        log(
          `round ${round + 1}/${rounds} ${c.id} (${c.label}): ${options.pods} pods bound in ${r.seconds.toFixed(2)}s = ${podsPerSecond.toFixed(1)} pods/s (created in ${r.createSeconds.toFixed(2)}s; CPU per pod: ${formatCpu(r.cpuMsPerPod)})`,
        );
        runs.set(c.id, [...(runs.get(c.id) ?? []), { seconds: r.seconds, createSeconds: r.createSeconds, podsPerSecond, cpuMsPerPod: r.cpuMsPerPod }]);
        placements.set(c.id, r.placements);
      }
    }
    const results = chosen.map((c): ConfigurationResult => {
      const rs = runs.get(c.id) ?? [];
      const cpuMsPerPod: CpuPerPod = {};
      for (const role of ['scheduler', 'extender'] as const) {
        const xs = rs.flatMap((r) => r.cpuMsPerPod[role] ?? []);
        if (xs.length > 0) cpuMsPerPod[role] = median(xs);
      }
      return {
        id: c.id,
        label: c.label,
        pods: options.pods,
        podsPerSecond: median(rs.map((r) => r.podsPerSecond)),
        cpuMsPerPod,
        rounds: rs,
        placements: placements.get(c.id) ?? {},
      };
    });
    const ratio = (ours: ConfigurationId, trivial: ConfigurationId): number | undefined => {
      const o = runs.get(ours);
      const t = runs.get(trivial);
      return o === undefined || t === undefined ? undefined : pairedRatio(o, t);
    };
    const names = ratio('c', 'b');
    const nodes = ratio('e', 'd');
    return {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadavg1mAtStart, loadavg1mAtEnd: loadavg()[0] ?? 0, node: process.version },
      nodes: options.nodes,
      pods: options.pods,
      clientConnection: CLIENT_CONNECTION,
      results,
      ratios: { ...(names !== undefined ? { names } : {}), ...(nodes !== undefined ? { nodes } : {}) },
    };
  } finally {
    await cp.stop();
  }
}

const formatCpu = (cpu: CpuPerPod): string => `scheduler ${cpu.scheduler?.toFixed(1) ?? '?'} ms, extender ${cpu.extender?.toFixed(1) ?? '-'} ms`;

export function formatTable(r: SchedulerThroughputResult): string {
  const none = r.results.find((x) => x.id === 'a')?.podsPerSecond;
  const ms = (v: number | undefined): string => (v === undefined ? '' : v.toFixed(1)).padStart(9);
  const rows = r.results.map((x) => {
    const vsNone = none === undefined ? '' : `${((100 * x.podsPerSecond) / none).toFixed(0)} %`;
    return `| ${x.id} | ${x.label.padEnd(28)} | ${x.podsPerSecond.toFixed(1).padStart(7)} | ${vsNone.padStart(9)} | ${ms(x.cpuMsPerPod.scheduler)} | ${ms(x.cpuMsPerPod.extender)} |`;
  });
  const ratios = Object.entries(r.ratios).map(([mode, v]) => `NeuroNetes ÷ trivial, ${mode}: ${v.toFixed(2)} (target ≥ 0.90)`);
  return [
    `${r.nodes} nodes, ${r.pods} pods; ${r.machine.cpus} × ${r.machine.model}; load ${r.machine.loadavg1mAtStart.toFixed(1)} → ${r.machine.loadavg1mAtEnd.toFixed(1)}`,
    '| | configuration | bound/s | vs none | scheduler CPU ms/pod | extender CPU ms/pod |',
    '|---|---|---:|---:|---:|---:|',
    ...rows,
    ...ratios,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '1000' },
      pods: { type: 'string', default: '500' },
      rounds: { type: 'string', default: '1' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
      out: { type: 'string', default: join(HERE, 'results', 'scheduler-throughput.json') },
    },
  });
  const int = (flag: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag} must be a positive integer, not ${JSON.stringify(v)}`);
    return n;
  };
  const result = await runSchedulerThroughput({
    nodes: int('nodes', values.nodes),
    pods: int('pods', values.pods),
    rounds: int('rounds', values.rounds),
    ...(values.only !== undefined ? { configurations: values.only.split(',').map((s) => s.trim() as ConfigurationId) } : {}),
    ...(values['cpu-prof'] !== undefined ? { cpuProfDir: resolve(values['cpu-prof']) } : {}),
  });
  process.stdout.write(`${formatTable(result)}\n`);
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify({ ...result, results: result.results.map(({ placements: _p, ...rest }) => rest) }, null, 2)}\n`);
  process.stdout.write(`wrote ${values.out}\n`);
}

if (import.meta.main) await main();
