/**
 * Where plugins register themselves when their module is imported (the guide's `init()` pattern).
 * The registry only collects; the config decides which are enabled and in what order (PluginSet).
 */
import { pino, type Logger } from 'pino';
import type { PluginDefinition } from './definition.ts';
import { resolvePluginConfig } from './plugin-config.ts';
import { PluginInstances } from './plugin-instances.ts';
import { describeAnswer } from './plugin-answer.ts';
import {
  PLUGIN_TYPES,
  type AutoscalerPlugin,
  type Guardrail,
  type MetricsProvider,
  type ModelLoader,
  type PluginByType,
  type PluginType,
  type SchedulerPlugin,
} from './types.ts';

export const DEFAULT_PRIORITY = 100;
const silentLog = pino({ level: 'silent' });
const NAME_PATTERN = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

/** Whether `name` may name a plugin (what registration checks). */
export function isPluginName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

const REQUIRED_METHODS: Readonly<Record<PluginType, readonly string[]>> = {
  scheduler: [],
  autoscaler: ['calculateReplicas', 'getMetricNames'],
  'model-loader': ['canLoad', 'load', 'unload'],
  guardrail: ['check', 'getType'],
  'metrics-provider': ['getMetric', 'listMetrics'],
};

export class PluginRegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginRegistrationError';
  }
}

export interface RegisteredPlugin<T extends PluginType = PluginType> {
  readonly type: T;
  readonly name: string;
  readonly priority: number;
  /** How to make the plugin from its config: a definition's factory, or the instance itself. */
  readonly definition: PluginDefinition<T>;
  /** The module that registered it, for /debug/plugins. */
  readonly source: string;
}

function methodOf(value: object, key: string): unknown {
  return (value as Record<string, unknown>)[key];
}

function checkType(type: unknown): asserts type is PluginType {
  if (!(PLUGIN_TYPES as readonly unknown[]).includes(type)) {
    throw new PluginRegistrationError(`cannot register plugin: type ${describeAnswer(type)} is none of ${PLUGIN_TYPES.join(', ')}`);
  }
}

function checkName(type: PluginType, name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new PluginRegistrationError(
      `cannot register ${type} plugin: ${what} ${describeAnswer(name)}; use lower-case letters, digits, '-' or '.' (at most 63)`,
    );
  }
}

/** Checks what a plugin (or a factory) made at run time: third-party plugins are plain JavaScript as often as not. */
export function checkMethods(type: PluginType, name: string, plugin: unknown): void {
  if (typeof plugin !== 'object' || plugin === null) {
    throw new PluginRegistrationError(`${type} plugin "${name}": expected an object, got ${plugin === null ? 'null' : typeof plugin}`);
  }
  for (const method of REQUIRED_METHODS[type]) {
    if (typeof methodOf(plugin, method) !== 'function') throw new PluginRegistrationError(`${type} plugin "${name}" has no ${method}() method`);
  }
  // A preempt-only plugin (allowEviction alone) is a plugin too; one with none of the three does nothing.
  if (type === 'scheduler' && !['filter', 'score', 'allowEviction'].some((m) => typeof methodOf(plugin, m) === 'function')) {
    throw new PluginRegistrationError(`scheduler plugin "${name}" needs a filter(), score() or allowEviction() method`);
  }
}

/** `what` says where the value came from: a definition's `priority`, or an instance's `priority()`. */
function checkPriority(type: PluginType, name: string, p: unknown, what = 'priority'): number {
  if (typeof p !== 'number' || !Number.isInteger(p)) {
    throw new PluginRegistrationError(`cannot register ${type} plugin "${name}": ${what} ${describeAnswer(p)}, expected an integer`);
  }
  return p;
}

/** An instance registered the guide's way becomes a definition whose factory hands it back. */
function instanceDefinition<T extends PluginType>(type: T, plugin: unknown): PluginDefinition<T> {
  if (typeof plugin !== 'object' || plugin === null) {
    throw new PluginRegistrationError(`cannot register ${type} plugin: expected an object, got ${plugin === null ? 'null' : typeof plugin}`);
  }
  const nameFn = methodOf(plugin, 'name');
  if (typeof nameFn !== 'function') throw new PluginRegistrationError(`cannot register ${type} plugin: it has no name() method`);
  const name: unknown = nameFn.call(plugin);
  checkName(type, name, 'name() returned');
  checkMethods(type, name, plugin);
  const priorityFn = methodOf(plugin, 'priority');
  if (priorityFn !== undefined && typeof priorityFn !== 'function') {
    throw new PluginRegistrationError(`cannot register ${type} plugin "${name}": priority must be a method`);
  }
  const priority = priorityFn === undefined ? DEFAULT_PRIORITY : checkPriority(type, name, priorityFn.call(plugin), 'priority() returned');
  const instance = plugin as PluginByType[T];
  return { type, name, priority, create: () => instance };
}

/** Highest priority first; ties broken by name so the order never depends on import order. */
export function byPriority(a: { priority: number; name: string }, b: { priority: number; name: string }): number {
  return b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export class PluginRegistry {
  readonly #instances = new PluginInstances();
  readonly #plugins = new Map<PluginType, Map<string, RegisteredPlugin>>(PLUGIN_TYPES.map((t) => [t, new Map()]));
  /** Set by the module loader around each import() so registrations know where they came from. */
  #currentSource: string | undefined;

  /** Registers a plugin instance, the guide's `RegisterScheduler(NewX())`. */
  register<T extends PluginType>(type: T, plugin: PluginByType[T], source?: string): RegisteredPlugin<T> {
    return this.define(instanceDefinition(type, plugin), source);
  }

  /** Registers a plugin definition: the service makes its instances from validated config. */
  define<T extends PluginType>(definition: PluginDefinition<T>, source?: string): RegisteredPlugin<T> {
    if (typeof definition !== 'object' || definition === null)
      throw new PluginRegistrationError(`cannot register plugin: expected a definition, got ${describeAnswer(definition)}`);
    const { type, name } = definition;
    checkType(type);
    checkName(type, name, 'name');
    if (typeof definition.create !== 'function') throw new PluginRegistrationError(`cannot register ${type} plugin "${name}": it has no create() factory`);
    const priority = definition.priority === undefined ? DEFAULT_PRIORITY : checkPriority(type, name, definition.priority);
    const byName = this.#plugins.get(type) as Map<string, RegisteredPlugin>;
    const existing = byName.get(name);
    if (existing !== undefined) {
      throw new PluginRegistrationError(`duplicate ${type} plugin "${name}": already registered by ${existing.source}`);
    }
    const entry: RegisteredPlugin<T> = { type, name, priority, definition, source: source ?? this.#currentSource ?? 'code' };
    byName.set(name, entry);
    return entry;
  }

  /**
   * Runs `load` with registrations attributed to `source` (a module specifier). When it fails, what
   * it registered is dropped: a later config must not find half of a module that did not load.
   */
  async withSource<R>(source: string, load: () => Promise<R>): Promise<R> {
    const previous = this.#currentSource;
    const before = new Set([...this.#plugins.values()].flatMap((byName) => [...byName.values()]));
    this.#currentSource = source;
    try {
      return await load();
    } catch (e: unknown) {
      for (const byName of this.#plugins.values()) {
        for (const [name, entry] of byName) if (entry.source === source && !before.has(entry)) byName.delete(name);
      }
      throw e;
    } finally {
      this.#currentSource = previous;
    }
  }

  entries<T extends PluginType>(type: T): RegisteredPlugin<T>[] {
    const byName = this.#plugins.get(type) as Map<string, RegisteredPlugin<T>>;
    return [...byName.values()].sort(byPriority);
  }

  get<T extends PluginType>(type: T, name: string): RegisteredPlugin<T> | undefined {
    return this.#plugins.get(type)?.get(name) as RegisteredPlugin<T> | undefined;
  }

  /** The guide's `GetSchedulers()`: each plugin made with its default config. */
  getSchedulers(): SchedulerPlugin[] {
    return this.#defaultInstances('scheduler');
  }
  getAutoscalers(): AutoscalerPlugin[] {
    return this.#defaultInstances('autoscaler');
  }
  getModelLoaders(): ModelLoader[] {
    return this.#defaultInstances('model-loader');
  }
  getGuardrails(): Guardrail[] {
    return this.#defaultInstances('guardrail');
  }
  getMetricsProviders(): MetricsProvider[] {
    return this.#defaultInstances('metrics-provider');
  }

  /** Throws for a plugin whose schema has no default for a setting it requires. */
  #defaultInstances<T extends PluginType>(type: T): PluginByType[T][] {
    return this.entries(type).map((e) => {
      const resolved = resolvePluginConfig<Readonly<Record<string, unknown>>>(e.definition.config, {});
      if (!resolved.ok) throw new PluginRegistrationError(`${type} plugin "${e.name}" cannot be made without a config: ${resolved.problems.join('; ')}`);
      return this.#instances.instance(e, resolved.config, silentLog);
    });
  }

  /** The plugin made from `config` (already validated), reused while the config stays the same. */
  instance<T extends PluginType>(entry: RegisteredPlugin<T>, config: Readonly<Record<string, unknown>>, log: Logger): PluginByType[T] {
    return this.#instances.instance(entry, config, log);
  }
}

/*
 * One registry per process, even when the service runs from source and a plugin package imports the
 * compiled `neuronetes` entry: two copies of this module must not mean two registries.
 */
const GLOBAL_KEY = Symbol.for('neuronetes.plugin-registry');
type GlobalWithRegistry = typeof globalThis & { [GLOBAL_KEY]?: PluginRegistry };

export function getGlobalRegistry(): PluginRegistry {
  const g = globalThis as GlobalWithRegistry;
  g[GLOBAL_KEY] ??= new PluginRegistry();
  return g[GLOBAL_KEY];
}

export function registerScheduler(plugin: SchedulerPlugin): void {
  getGlobalRegistry().register('scheduler', plugin);
}
export function registerAutoscaler(plugin: AutoscalerPlugin): void {
  getGlobalRegistry().register('autoscaler', plugin);
}
export function registerModelLoader(plugin: ModelLoader): void {
  getGlobalRegistry().register('model-loader', plugin);
}
export function registerGuardrail(plugin: Guardrail): void {
  getGlobalRegistry().register('guardrail', plugin);
}
export function registerMetricsProvider(plugin: MetricsProvider): void {
  getGlobalRegistry().register('metrics-provider', plugin);
}
/** Registers a plugin definition (see definePlugin) with the process's registry. */
export function registerPlugin<T extends PluginType>(definition: PluginDefinition<T>): void {
  getGlobalRegistry().define(definition);
}
