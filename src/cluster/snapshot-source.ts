/**
 * The embedded cluster source: a directory of Kubernetes YAML (Nodes, Pods, AgentPools, AgentClasses,
 * Models and any pod owners), watched for changes. A change that does not parse keeps the last good
 * picture. Bindings are applied in memory only.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Logger } from 'pino';
import { Compile } from 'typebox/compile';
import { parseAllDocuments } from 'yaml';
import { Node, Pod, type OwnedObject } from '../api/kubernetes.ts';
import { AgentClass, AgentPool, Model } from '../api/neuronetes.ts';
import { BindError, type ClusterSource, type PodBinding, type Readiness } from './cluster-source.ts';
import { ClusterState, type ClusterObjects, type ClusterView } from './cluster-view.ts';

const validators = {
  Node: Compile(Node),
  Pod: Compile(Pod),
  AgentPool: Compile(AgentPool),
  AgentClass: Compile(AgentClass),
  Model: Compile(Model),
};

export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

function check<K extends keyof typeof validators>(kind: K, obj: unknown, where: string): void {
  const v = validators[kind];
  if (!v.Check(obj)) {
    const first = [...v.Errors(obj)][0];
    throw new SnapshotError(`${where}: invalid ${kind}: ${first?.instancePath || '(top level)'} ${first?.message ?? ''}`.trim());
  }
}

/** Where each validated kind goes; any other kind with metadata may own pods and is kept as such. */
const LIST_OF_KIND = { Node: 'nodes', Pod: 'pods', AgentPool: 'agentPools', AgentClass: 'agentClasses', Model: 'models' } as const satisfies Record<
  keyof typeof validators,
  keyof ClusterObjects
>;

/** Parses YAML documents (a List's items included) into cluster objects. Throws SnapshotError. */
export function parseClusterYaml(files: readonly { path: string; text: string }[]): ClusterObjects {
  const out = {
    nodes: [] as Node[],
    pods: [] as Pod[],
    agentPools: [] as AgentPool[],
    agentClasses: [] as AgentClass[],
    models: [] as Model[],
    others: [] as OwnedObject[],
  };
  const add = (obj: unknown, where: string): void => {
    if (obj === null || obj === undefined) return;
    if (typeof obj !== 'object' || Array.isArray(obj)) throw new SnapshotError(`${where}: expected a Kubernetes object`);
    const kind = (obj as { kind?: unknown }).kind;
    if (typeof kind !== 'string') throw new SnapshotError(`${where}: object has no kind`);
    if (kind.endsWith('List')) {
      const items = (obj as { items?: unknown }).items;
      if (!Array.isArray(items)) throw new SnapshotError(`${where}: ${kind} has no items`);
      items.forEach((item: unknown, i) => add(item, `${where} items[${i}]`));
      return;
    }
    if (Object.hasOwn(LIST_OF_KIND, kind)) {
      const known = kind as keyof typeof LIST_OF_KIND;
      check(known, obj, where);
      (out[LIST_OF_KIND[known]] as unknown[]).push(obj);
    } else if (typeof (obj as { metadata?: unknown }).metadata === 'object') {
      out.others.push(obj as OwnedObject);
    }
  };
  for (const file of files) {
    parseAllDocuments(file.text).forEach((doc, i) => {
      if (doc.errors.length > 0) throw new SnapshotError(`${file.path}: not valid YAML: ${doc.errors[0]?.message ?? ''}`);
      add(doc.toJS(), `${file.path} document ${i + 1}`);
    });
  }
  return out;
}

async function readYamlFiles(path: string): Promise<{ path: string; text: string }[]> {
  const info = await stat(path);
  const paths = info.isDirectory()
    ? (await readdir(path))
        .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)) && !f.startsWith('.'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  return Promise.all(paths.map(async (p) => ({ path: p, text: await readFile(p, 'utf8') })));
}

export interface SnapshotSourceOptions {
  /** A YAML file or a directory of them. */
  path?: string;
  /** Objects already in memory (embedding, tests, benchmarks); `path` is then not read. */
  objects?: ClusterObjects;
  log: Logger;
  /** Reload when the files change (default true). */
  watch?: boolean;
  debounceMs?: number;
}

export class SnapshotSource implements ClusterSource {
  readonly kind = 'snapshot';
  readonly #options: SnapshotSourceOptions;
  readonly #listeners = new Set<(view: ClusterView) => void>();
  #objects: ClusterObjects = { nodes: [], pods: [], agentPools: [], agentClasses: [], models: [] };
  #view: ClusterState = new ClusterState(this.#objects, 0);
  #version = 0;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #lastError: string | undefined;
  #loaded = false;

  constructor(options: SnapshotSourceOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { path, objects } = this.#options;
    if (objects !== undefined) {
      this.#publish(objects);
      this.#loaded = true;
      return;
    }
    if (path === undefined) throw new SnapshotError('a snapshot source needs a path or objects');
    await this.reload();
    if (!this.#loaded) throw new SnapshotError(this.#lastError ?? `cannot load ${path}`);
    if (this.#options.watch ?? true) {
      this.#watcher = watch(path, () => {
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => void this.reload(), this.#options.debounceMs ?? 200);
      });
      this.#watcher.on('error', (err) => this.#options.log.warn({ err }, 'snapshot watch failed; changes will not be picked up'));
    }
  }

  /** Re-reads the files; on any error keeps the current picture and logs why. */
  async reload(): Promise<boolean> {
    const path = this.#options.path;
    if (path === undefined) return false;
    try {
      const objects = parseClusterYaml(await readYamlFiles(path));
      this.#publish(objects);
      this.#loaded = true;
      this.#lastError = undefined;
      this.#options.log.info({ path, nodes: objects.nodes.length, pods: objects.pods.length, pools: objects.agentPools.length }, 'cluster snapshot loaded');
      return true;
    } catch (e: unknown) {
      this.#lastError = (e as Error).message;
      this.#options.log.error({ err: e, path }, this.#loaded ? 'cluster snapshot reload failed; keeping the last good one' : 'cluster snapshot failed to load');
      return false;
    }
  }

  #publish(objects: ClusterObjects): void {
    this.#objects = objects;
    this.#view = new ClusterState(objects, ++this.#version, this.#view);
    for (const listener of this.#listeners) listener(this.#view);
  }

  async close(): Promise<void> {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
  }

  view(): ClusterView {
    return this.#view;
  }

  readiness(): Readiness {
    return this.#loaded ? { ready: true } : { ready: false, reason: this.#lastError ?? 'snapshot not loaded yet' };
  }

  async bind(b: PodBinding): Promise<void> {
    const pod = this.#objects.pods.find((p) => p.metadata.namespace === b.podNamespace && p.metadata.name === b.podName);
    if (pod === undefined) throw new BindError(`pod ${b.podNamespace}/${b.podName} is not in the cluster snapshot`);
    if (pod.metadata.uid !== undefined && b.podUid !== '' && pod.metadata.uid !== b.podUid) {
      throw new BindError(`pod ${b.podNamespace}/${b.podName} has UID ${pod.metadata.uid}, not ${b.podUid}`);
    }
    const current = pod.spec?.nodeName;
    if (current === b.node) return;
    if (current !== undefined && current !== '') throw new BindError(`pod ${b.podNamespace}/${b.podName} is already bound to ${current}`);
    const bound: Pod = { ...pod, spec: { ...pod.spec, nodeName: b.node } };
    this.#publish({ ...this.#objects, pods: this.#objects.pods.map((p) => (p === pod ? bound : p)) });
  }

  onChange(listener: (view: ClusterView) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
