/**
 * A real, throwaway Kubernetes control plane for the e2e suites: etcd (Debian's etcd-server),
 * kube-apiserver and kube-scheduler (v1.32 binaries from KUBE_BIN_DIR, <repo>/../shared/kube or
 * /work/shared/kube, xz-compressed), all on free loopback ports, every process stopped by pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/cluster/kube-api.ts';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { freePort } from '../helpers/processes.ts';

export { freePort };

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BINARIES = ['kube-apiserver', 'kube-scheduler'] as const;

export interface KubeBinaries {
  etcd: string;
  apiserver: string;
  scheduler: string;
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Decompresses `<dir>/<name>.xz` once into a cache folder keyed by the archive's size and mtime. */
function binary(dir: string, name: string): string | undefined {
  const plain = join(dir, name);
  if (existsSync(plain)) return plain;
  const xz = `${plain}.xz`;
  if (!existsSync(xz)) return undefined;
  const st = statSync(xz);
  const cache = join(tmpdir(), 'neuronetes-kube-bin', `${st.size}-${Math.floor(st.mtimeMs)}`);
  const out = join(cache, name);
  if (existsSync(out)) return out;
  mkdirSync(cache, { recursive: true });
  const partial = `${out}.${process.pid}.partial`;
  const r = spawnSync('sh', ['-c', `xz -dc "$0" > "$1" && chmod +x "$1"`, xz, partial]);
  if (r.status !== 0) return undefined;
  renameSync(partial, out); // atomic: parallel test files never run a half-written binary
  return out;
}

/** The binaries, or why the e2e suite must skip and how to enable it. */
export function findKubeBinaries(): KubeBinaries | { skip: string } {
  const dirs = [process.env['KUBE_BIN_DIR'], join(REPO, '..', 'shared', 'kube'), '/work/shared/kube'].filter((d): d is string => d !== undefined && d !== '');
  const etcd = which('etcd');
  const how = 'set KUBE_BIN_DIR to a folder with kube-apiserver and kube-scheduler (v1.32, optionally .xz) and install etcd (apt-get install etcd-server)';
  if (etcd === undefined) return { skip: `etcd is not installed; ${how}` };
  if (which('xz') === undefined || which('openssl') === undefined) return { skip: `xz and openssl are needed; ${how}` };
  for (const dir of dirs) {
    const [apiserver, scheduler] = BINARIES.map((b) => binary(dir, b));
    if (apiserver !== undefined && scheduler !== undefined) return { etcd, apiserver, scheduler };
  }
  return { skip: `kube-apiserver/kube-scheduler not found in ${dirs.join(', ')}; ${how}` };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` calls in flight (bulk API writes without a stampede). */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e: unknown) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last !== undefined ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}

export class Proc {
  readonly name: string;
  readonly log: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  constructor(name: string, cmd: string, args: string[], log: string) {
    this.name = name;
    this.log = log;
    const out = createWriteStream(log, { flags: 'a' });
    this.#child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child.stdout?.pipe(out);
    this.#child.stderr?.pipe(out);
    this.#exited = new Promise((r) => this.#child.once('exit', () => r()));
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /**
   * CPU time the process has used so far (user + system), from /proc; undefined where there is no
   * /proc or the process has exited. The kernel reports it in USER_HZ ticks, 100 a second on Linux.
   */
  async cpuMs(): Promise<number | undefined> {
    const stat = await readFile(`/proc/${this.#child.pid ?? 0}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined || this.#child.pid === undefined) return undefined;
    // Fields after the command name (which may hold spaces, inside parentheses): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  async tail(lines = 30): Promise<string> {
    const text = await readFile(this.log, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }
}

export interface ControlPlane {
  readonly dir: string;
  readonly server: string;
  readonly token: string;
  readonly etcdUrl: string;
  readonly kubeconfigPath: string;
  kubeConfig(): KubeConfig;
  /**
   * Starts a kube-scheduler with this KubeSchedulerConfiguration (kubeconfig and leaderElection filled
   * in, other clientConnection fields kept) at log level `verbosity` (default 3).
   */
  startScheduler(name: string, config: Record<string, unknown>, options?: { verbosity?: number }): Promise<Proc>;
  restartApiServer(): Promise<void>;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  stop(): Promise<void>;
}

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function apiReady(server: string, token: string): Promise<boolean> {
  try {
    const { statusCode, body } = await request(`${server}/readyz`, {
      dispatcher: insecure,
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(2_000),
    });
    const text = await body.text();
    return statusCode === 200 && text.trim() === 'ok';
  } catch {
    return false;
  }
}

export interface ControlPlaneOptions {
  /** Extra kube-apiserver flags. */
  apiserverArgs?: string[];
}

export async function startControlPlane(bins: KubeBinaries, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'neuronetes-e2e-'));
  const [etcdPort, peerPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const token = `e2e-${Math.random().toString(36).slice(2)}`;
  const server = `https://127.0.0.1:${apiPort}`;
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const procs: Proc[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of [...procs].reverse()) await p.stop(p.name === 'kube-apiserver' ? 10_000 : 5_000);
  };
  try {
    const etcd = new Proc(
      'etcd',
      bins.etcd,
      [
        '--data-dir',
        join(dir, 'etcd'),
        '--listen-client-urls',
        etcdUrl,
        '--advertise-client-urls',
        etcdUrl,
        '--listen-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-cluster',
        `default=http://127.0.0.1:${peerPort}`,
      ],
      join(dir, 'etcd.log'),
    );
    procs.push(etcd);
    await eventually('etcd to answer', async () => {
      const { statusCode, body } = await request(`${etcdUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      const text = await body.text();
      return statusCode === 200 && text.includes('true') ? true : undefined;
    });

    const ssl = spawnSync('sh', ['-c', 'openssl genrsa -out sa.key 2048 && openssl rsa -in sa.key -pubout -out sa.pub'], { cwd: dir, stdio: 'ignore' });
    if (ssl.status !== 0) throw new Error('openssl could not make the service-account key pair');
    await writeFile(join(dir, 'tokens.csv'), `${token},admin,admin,system:masters\n`);
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfigPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster: { server, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'admin', user: { token } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'admin' } }],
        'current-context': 'e2e',
      }),
    );

    const apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
      ...(options.apiserverArgs ?? []),
    ];
    let apiserver: Proc | undefined;
    const startApiServer = async (): Promise<void> => {
      apiserver = new Proc('kube-apiserver', bins.apiserver, apiArgs, join(dir, 'kube-apiserver.log'));
      procs.splice(1, 0, apiserver);
      const started = apiserver;
      await eventually(
        'kube-apiserver to be ready',
        async () => {
          if (!started.running) throw new Error(`kube-apiserver exited:\n${await started.tail()}`);
          return (await apiReady(server, token)) ? true : undefined;
        },
        90_000,
        300,
      );
    };
    const stopApiServer = async (): Promise<void> => {
      if (apiserver === undefined) return;
      await apiserver.stop(10_000);
      procs.splice(procs.indexOf(apiserver), 1);
      apiserver = undefined;
    };
    await startApiServer();

    return {
      dir,
      server,
      token,
      etcdUrl,
      kubeconfigPath,
      kubeConfig() {
        return loadKubeConfig(kubeconfigPath);
      },
      async startScheduler(name, config, { verbosity = 3 } = {}) {
        const file = join(dir, `${name}.yaml`);
        const clientConnection = { ...(config['clientConnection'] as Record<string, unknown> | undefined), kubeconfig: kubeconfigPath };
        await writeFile(file, stringify({ ...config, clientConnection, leaderElection: { leaderElect: false } }));
        const p = new Proc(
          name,
          bins.scheduler,
          [`--config=${file}`, '--bind-address=127.0.0.1', '--secure-port=0', `-v=${verbosity}`],
          join(dir, `${name}.log`),
        );
        procs.push(p);
        await sleep(200);
        if (!p.running) throw new Error(`${name} exited:\n${await p.tail()}`);
        return p;
      },
      stopApiServer,
      startApiServer,
      async restartApiServer() {
        await stopApiServer();
        await startApiServer();
      },
      async stop() {
        await stopAll();
        if (process.env['E2E_KEEP'] === undefined) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e: unknown) {
    await stopAll();
    throw e;
  }
}
