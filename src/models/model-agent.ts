/**
 * The node agent's model cache service: load and unload models through the ModelLoader chain, one
 * operation at a time per model, atomically (staging folder, then rename), and tell the cluster what
 * the cache holds after every change. Decisions go to /debug/plugins/model-loader/trace.
 */
import type { FastifyBaseLogger as Logger } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { NotFoundError } from '../api/errors.ts';
import { objectKey, type Model } from '../api/neuronetes.ts';
import type { ClusterSource } from '../cluster/cluster-source.ts';
import type { TraceBuffer, TraceEntry } from '../observability/trace-buffer.ts';
import type { CallFailure, ChainRuntime } from '../plugins/plugin-pass.ts';
import type { PluginSet } from '../plugins/plugin-set.ts';
import type { CachedModelsPublisher } from './cached-models-publisher.ts';
import { KeyedLock } from './keyed-lock.ts';
import { ModelCache, type CachedModel } from './model-cache.ts';
import { chooseLoader, runLoader, type LoaderConsideration } from './model-loader-chain.ts';
import { ModelTooLargeError, modelSizeBytes } from './model-size.ts';

/** After a loader times out, how long cleanup waits for it to notice its aborted signal. */
const ABANDON_GRACE_MS = 5000;

export interface ModelRef {
  name: string;
  namespace?: string;
}

export type ModelOpStatus = 'loaded' | 'already-cached' | 'unloaded' | 'not-cached';

export interface ModelOpResult {
  readonly model: string;
  readonly namespace: string;
  readonly node: string;
  readonly status: ModelOpStatus;
  readonly loader: string | null;
  readonly path: string;
  readonly durationMs: number;
  readonly files?: number;
  readonly bytes?: number;
}

export interface ModelTrace extends TraceEntry {
  readonly op: 'load' | 'unload';
  readonly model: string;
  readonly node: string;
  readonly weightsURI: string | null;
  readonly loader: string | null;
  readonly status: ModelOpStatus | 'failed';
  readonly durationMs: number;
  readonly considered: readonly LoaderConsideration[];
  readonly error?: string;
}

export class NoModelLoaderError extends Error {
  constructor(ref: string, uri: string, considered: readonly LoaderConsideration[]) {
    const asked = considered.map((c) => `${c.plugin}${c.mode === 'shadow' ? ' (shadow)' : ''}: ${c.failure ?? (c.canLoad === true ? 'yes' : 'no')}`);
    super(`no enabled model loader can load ${ref} from ${uri}; asked ${asked.length > 0 ? asked.join(', ') : 'none (no model loader is enabled)'}`);
    this.name = 'NoModelLoaderError';
  }
}

export class ModelLoadError extends Error {
  readonly kind: 'error' | 'timeout';
  constructor(message: string, kind: 'error' | 'timeout', cause: Error) {
    super(message, { cause });
    this.name = 'ModelLoadError';
    this.kind = kind;
  }
}

export interface ModelAgentDeps {
  readonly cacheDir: string;
  readonly nodeName: string;
  readonly publisher?: CachedModelsPublisher | undefined;
  readonly runtime: ChainRuntime;
  readonly cluster: ClusterSource;
  readonly plugins: () => PluginSet;
  readonly trace: TraceBuffer<TraceEntry>;
  readonly registry: Registry;
}

export class ModelAgent {
  readonly cache: ModelCache;
  readonly nodeName: string;
  readonly #deps: ModelAgentDeps;
  readonly #lock = new KeyedLock();
  readonly #ops: Counter<'op' | 'loader' | 'result'>;
  readonly #duration: Histogram<'op' | 'loader'>;
  readonly #cached: Gauge;
  readonly #publishFailures: Counter;
  #publishing: Promise<void> = Promise.resolve();

  constructor(deps: ModelAgentDeps) {
    this.#deps = deps;
    this.cache = new ModelCache(deps.cacheDir);
    this.nodeName = deps.nodeName;
    const registers = [deps.registry];
    this.#ops = new Counter({
      name: 'neuronetes_model_operations_total',
      help: 'Model cache operations by op (load, unload), loader and result (loaded, already-cached, unloaded, not-cached, failed, timeout, no-loader)',
      labelNames: ['op', 'loader', 'result'] as const,
      registers,
    });
    this.#duration = new Histogram({
      name: 'neuronetes_model_operation_duration_seconds',
      help: 'Time a loader took to load or unload a model',
      labelNames: ['op', 'loader'] as const,
      buckets: [0.1, 1, 5, 15, 60, 300, 900, 1800, 3600],
      registers,
    });
    this.#cached = new Gauge({ name: 'neuronetes_model_cache_models', help: 'Models in this node agent cache', registers });
    this.#publishFailures = new Counter({
      name: 'neuronetes_model_cache_publish_failures_total',
      help: 'Failed attempts to publish the cached-model list (the Node annotation); the next change retries',
      registers,
    });
  }

  /** Prepares the cache folder and publishes what it already holds. */
  async start(log: Logger): Promise<void> {
    await this.cache.prepare();
    await this.publish(log);
  }

  list(): Promise<CachedModel[]> {
    return this.cache.list();
  }

  #model(ref: ModelRef): { model: Model | undefined; key: string } {
    const namespace = ref.namespace ?? 'default';
    return { model: this.#deps.cluster.view().model(namespace, ref.name), key: `${namespace}/${ref.name}` };
  }

  #record(trace: Omit<ModelTrace, 'id' | 'time' | 'node'>): void {
    const t = this.#deps.trace;
    const entry: ModelTrace = { id: t.nextId(), time: new Date().toISOString(), node: this.nodeName, ...trace };
    t.push(entry);
  }

  /**
   * Throws NotFoundError (a Model the cluster source does not have), NoModelLoaderError, ModelLoadError, or PluginFailure (a
   * `failurePolicy: Fail` loader's canLoad() failed).
   */
  async load(ref: ModelRef, log: Logger): Promise<ModelOpResult> {
    const { model, key } = this.#model(ref);
    if (model === undefined) throw new NotFoundError('Model', key);
    return this.#lock.run(ref.name, async () => {
      const started = performance.now();
      const base = { model: ref.name, namespace: ref.namespace ?? 'default', node: this.nodeName, path: this.cache.pathOf(ref.name) };
      const traceBase = { subject: objectKey(model), op: 'load' as const, model: ref.name, weightsURI: model.spec.weightsURI };
      const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
      if (await this.cache.has(ref.name)) {
        this.#ops.inc({ op: 'load', loader: '', result: 'already-cached' });
        this.#record({ ...traceBase, loader: null, status: 'already-cached', durationMs: elapsed(), considered: [] });
        return { ...base, status: 'already-cached', loader: null, durationMs: elapsed() };
      }
      let selection;
      try {
        selection = await chooseLoader(this.#deps.runtime, this.#deps.plugins().enabled('model-loader'), model);
      } catch (e: unknown) {
        this.#ops.inc({ op: 'load', loader: '', result: 'failed' });
        this.#record({ ...traceBase, loader: null, status: 'failed', durationMs: elapsed(), considered: [], error: (e as Error).message });
        throw e;
      }
      const { chosen, considered } = selection;
      if (chosen === undefined) {
        const error = new NoModelLoaderError(key, model.spec.weightsURI, considered);
        this.#ops.inc({ op: 'load', loader: '', result: 'no-loader' });
        this.#record({ ...traceBase, loader: null, status: 'failed', durationMs: elapsed(), considered, error: error.message });
        throw error;
      }
      const staged = await this.cache.stage(ref.name);
      const run = await runLoader(this.#deps.runtime, chosen, 'load', model, this.nodeName, staged);
      const outcome = run.outcome.ok ? await this.#checkStaged(model, staged) : run.outcome;
      if (!outcome.ok) {
        const { kind, error } = outcome;
        // The loader may still be writing after a timeout: clean up now, and again once it stops.
        void run.settled.then(() => this.cache.discard(staged));
        await Promise.race([run.settled, new Promise((resolve) => setTimeout(resolve, ABANDON_GRACE_MS).unref())]);
        await this.cache.discard(staged);
        const message = `${chosen.name} ${kind === 'timeout' ? 'timed out loading' : 'failed to load'} ${key} from ${model.spec.weightsURI}: ${error.message}`;
        this.#ops.inc({ op: 'load', loader: chosen.name, result: kind === 'timeout' ? 'timeout' : 'failed' });
        this.#record({ ...traceBase, loader: chosen.name, status: 'failed', durationMs: elapsed(), considered, error: message });
        log.warn({ model: key, loader: chosen.name, err: error }, 'model load failed; partial download removed');
        throw new ModelLoadError(message, kind, error);
      }
      await this.cache.commit(ref.name, staged);
      const described = await this.cache.describe(ref.name);
      this.#ops.inc({ op: 'load', loader: chosen.name, result: 'loaded' });
      this.#duration.observe({ op: 'load', loader: chosen.name }, run.durationMs / 1000);
      this.#record({ ...traceBase, loader: chosen.name, status: 'loaded', durationMs: elapsed(), considered });
      log.info({ model: key, loader: chosen.name, bytes: described.bytes, files: described.files }, 'model loaded');
      await this.publish(log);
      return { ...base, status: 'loaded', loader: chosen.name, durationMs: elapsed(), files: described.files, bytes: described.bytes };
    });
  }

  /**
   * What a loader wrote must be regular files and folders only (a symlink in the cache could point
   * anywhere on the node) and fit the Model's `spec.size` (built-in loaders stop at it; this holds
   * any loader to both), else the load fails and nothing is committed.
   */
  async #checkStaged(model: Model, staged: string): Promise<CallFailure | { ok: true }> {
    try {
      const limit = modelSizeBytes(model);
      const { bytes, other } = await this.cache.measure(staged);
      if (other !== undefined)
        return { ok: false, kind: 'error', error: new Error(`the loader left ${JSON.stringify(other)}, which is not a regular file or folder`) };
      return bytes > limit ? { ok: false, kind: 'error', error: new ModelTooLargeError(model, bytes, limit) } : { ok: true };
    } catch (e: unknown) {
      return { ok: false, kind: 'error', error: e instanceof Error ? e : new Error(String(e)) };
    }
  }

  /**
   * Removes a model from the cache. The loader that would load it gets its unload() call first (to
   * release what it holds elsewhere); the folder is removed whatever it does. A model the cluster no
   * longer has can still be unloaded by name.
   */
  async unload(ref: ModelRef, log: Logger): Promise<ModelOpResult> {
    const { model, key } = this.#model(ref);
    return this.#lock.run(ref.name, async () => {
      const started = performance.now();
      const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
      const path = this.cache.pathOf(ref.name);
      const base = { model: ref.name, namespace: ref.namespace ?? 'default', node: this.nodeName, path };
      const traceBase = { subject: key, op: 'unload' as const, model: ref.name, weightsURI: model?.spec.weightsURI ?? null };
      if (!(await this.cache.has(ref.name))) {
        if (model === undefined) throw new NotFoundError('Model', key);
        this.#ops.inc({ op: 'unload', loader: '', result: 'not-cached' });
        this.#record({ ...traceBase, loader: null, status: 'not-cached', durationMs: elapsed(), considered: [] });
        return { ...base, status: 'not-cached', loader: null, durationMs: elapsed() };
      }
      let loader: string | null = null;
      let considered: readonly LoaderConsideration[] = [];
      let error: string | undefined;
      if (model !== undefined) {
        const selection = await chooseLoader(this.#deps.runtime, this.#deps.plugins().enabled('model-loader'), model);
        considered = selection.considered;
        if (selection.chosen !== undefined) {
          loader = selection.chosen.name;
          const run = await runLoader(this.#deps.runtime, selection.chosen, 'unload', model, this.nodeName, path);
          if (!run.outcome.ok) {
            error = `${loader} unload: ${run.outcome.kind}: ${run.outcome.error.message}`;
            log.warn({ model: key, loader, err: run.outcome.error }, 'loader unload failed; removing the cached folder anyway');
          }
        }
      }
      await this.cache.remove(ref.name);
      this.#ops.inc({ op: 'unload', loader: loader ?? '', result: 'unloaded' });
      this.#record({ ...traceBase, loader, status: 'unloaded', durationMs: elapsed(), considered, ...(error !== undefined ? { error } : {}) });
      await this.publish(log);
      return { ...base, status: 'unloaded', loader, durationMs: elapsed() };
    });
  }

  /**
   * Publishes the cache's contents, one publication at a time, each reading the cache when it runs
   * (so the last one always carries the latest list). A failure is logged and counted, never thrown:
   * the model is on disk either way.
   */
  publish(log: Logger): Promise<void> {
    this.#publishing = this.#publishing.then(async () => {
      const names = await this.cache.names();
      this.#cached.set(names.length);
      const publisher = this.#deps.publisher;
      if (publisher === undefined) return;
      try {
        await publisher.publish(this.nodeName, names);
      } catch (e: unknown) {
        this.#publishFailures.inc();
        log.warn({ err: e, node: this.nodeName }, 'publishing the cached-model list failed');
      }
    });
    return this.#publishing;
  }
}
