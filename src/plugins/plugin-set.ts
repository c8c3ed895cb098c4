/**
 * An immutable view of registered plugins under one config: who is enabled, in what order, with
 * which settings. A config reload builds a new PluginSet and swaps it in whole, so a request in
 * flight keeps the set it started with.
 */
import type { Logger } from 'pino';
import { Value } from 'typebox/value';
import { ConfigError } from '../config/parse-config.ts';
import { resolvePluginSettings } from '../config/plugin-settings.ts';
import { PLUGIN_LIST_KEYS, type ResolvedPluginSettings, type ServiceConfig } from '../config/schema.ts';
import { resolvePluginConfig } from './plugin-config.ts';
import { byPriority, checkMethods, type PluginRegistry, type RegisteredPlugin } from './registry.ts';
import { PLUGIN_TYPES, type PluginByType, type PluginType } from './types.ts';

export interface ActivePlugin<T extends PluginType = PluginType> {
  readonly type: T;
  readonly name: string;
  readonly plugin: PluginByType[T];
  readonly source: string;
  /** Effective priority: the config's, else the plugin's own. */
  readonly priority: number;
  readonly settings: ResolvedPluginSettings;
}

function make<T extends PluginType>(
  registry: PluginRegistry,
  entry: RegisteredPlugin<T>,
  config: Readonly<Record<string, unknown>>,
  log: Logger,
  problems: string[],
): PluginByType[T] | undefined {
  try {
    const plugin = registry.instance(entry, config, log);
    checkMethods(entry.type, entry.name, plugin);
    return plugin;
  } catch (e: unknown) {
    problems.push(`${entry.type} plugin "${entry.name}" (from ${entry.source}) could not be made: ${(e as Error).message}`);
    return undefined;
  }
}

/** A plugin under another config: the active plugin made for it, or why that config is refused. */
export type Reconfigured<T extends PluginType = PluginType> =
  { readonly ok: true; readonly active: ActivePlugin<T> } | { readonly ok: false; readonly problems: readonly string[] };

export class PluginSet {
  readonly #all: Readonly<Record<PluginType, readonly ActivePlugin[]>>;
  readonly #enabled: Readonly<Record<PluginType, readonly ActivePlugin[]>>;
  readonly #registry: PluginRegistry;
  readonly #log: Logger;
  /** By overrides object (an AgentClass's, stable until the class changes), then by plugin. */
  readonly #reconfigured = new WeakMap<object, Map<ActivePlugin, Reconfigured>>();

  private constructor(all: Record<PluginType, ActivePlugin[]>, registry: PluginRegistry, log: Logger) {
    this.#registry = registry;
    this.#log = log;
    this.#all = all;
    const enabled = {} as Record<PluginType, ActivePlugin[]>;
    for (const type of PLUGIN_TYPES) enabled[type] = all[type].filter((p) => p.settings.enabled);
    this.#enabled = enabled;
  }

  /**
   * Throws ConfigError when the config names a plugin nobody registered, sets a plugin's config to
   * something its schema does not allow (every such problem, each naming the plugin, key, value and
   * what is allowed), or a plugin's factory throws.
   */
  static build(registry: PluginRegistry, config: ServiceConfig, log: Logger): PluginSet {
    const all = {} as Record<PluginType, ActivePlugin[]>;
    const problems: string[] = [];
    for (const type of PLUGIN_TYPES) {
      const configured = config.plugins[type];
      const registered = registry.entries(type);
      const known = new Set(registered.map((r) => r.name));
      const unknown = [...configured.keys()].filter((n) => !known.has(n));
      if (unknown.length > 0) {
        throw new ConfigError(
          `invalid config: ${PLUGIN_LIST_KEYS[type]} names unknown plugin${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; registered ${type} plugins: ${registered.map((r) => r.name).join(', ') || '(none)'}`,
        );
      }
      const active: ActivePlugin[] = [];
      for (const r of registered) {
        const entry = configured.get(r.name);
        const checked = resolvePluginConfig<Readonly<Record<string, unknown>>>(r.definition.config, entry?.config ?? {});
        if (!checked.ok) {
          problems.push(...checked.problems.map((p) => `${PLUGIN_LIST_KEYS[type]} "${r.name}": ${p}`));
          continue;
        }
        const settings = resolvePluginSettings(entry, r.definition.defaults, checked.config);
        const plugin = make(registry, r, settings.config, log, problems);
        if (plugin !== undefined) active.push({ type, name: r.name, plugin, source: r.source, priority: settings.priority ?? r.priority, settings });
      }
      all[type] = active.sort(byPriority);
    }
    if (problems.length > 0) throw new ConfigError(`invalid config: ${problems.join('; ')}`);
    return new PluginSet(all, registry, log);
  }

  /** Every registered plugin of a type, enabled or not, in chain order. */
  all<T extends PluginType>(type: T): readonly ActivePlugin<T>[] {
    return this.#all[type] as readonly ActivePlugin<T>[];
  }

  /** The chain: enabled plugins in priority order (highest first, ties by name). */
  enabled<T extends PluginType>(type: T): readonly ActivePlugin<T>[] {
    return this.#enabled[type] as readonly ActivePlugin<T>[];
  }

  /**
   * `active` with `overrides` laid over its config (an AgentClass's per-guardrail `config`), checked
   * against the plugin's schema as at start-up, and the instance made for that config.
   */
  withConfig<T extends PluginType>(active: ActivePlugin<T>, overrides: Readonly<Record<string, unknown>>): Reconfigured<T> {
    let byPlugin = this.#reconfigured.get(overrides);
    if (byPlugin === undefined) this.#reconfigured.set(overrides, (byPlugin = new Map()));
    let result = byPlugin.get(active);
    if (result === undefined) byPlugin.set(active, (result = this.#reconfigure(active, overrides)));
    return result as Reconfigured<T>;
  }

  #reconfigure<T extends PluginType>(active: ActivePlugin<T>, overrides: Readonly<Record<string, unknown>>): Reconfigured<T> {
    const entry = this.#registry.get(active.type, active.name) as RegisteredPlugin<T>;
    const schema = entry.definition.config;
    // An AgentClass's config values are strings (the CRD's map): "10" is read as the 10 a schema asks for.
    const typed = schema === undefined ? overrides : (Value.Convert(schema, structuredClone(overrides)) as Readonly<Record<string, unknown>>);
    const checked = resolvePluginConfig<Readonly<Record<string, unknown>>>(schema, { ...active.settings.config, ...typed });
    if (!checked.ok) return checked;
    const problems: string[] = [];
    const plugin = make(this.#registry, entry, checked.config, this.#log, problems);
    if (plugin === undefined) return { ok: false, problems };
    return { ok: true, active: { ...active, plugin, settings: { ...active.settings, config: checked.config } } };
  }
}
