/**
 * An immutable view of registered plugins under one config: who is enabled, in what order, with
 * which settings. A config reload builds a new PluginSet and swaps it in whole, so a request in
 * flight keeps the set it started with.
 */
import { ConfigError } from '../config/parse-config.ts';
import { PLUGIN_DEFAULTS, PLUGIN_LIST_KEYS, type ResolvedPluginSettings, type ServiceConfig } from '../config/schema.ts';
import { parseDuration } from '../util/duration.ts';
import { byPriority, type PluginRegistry } from './registry.ts';
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

const DEFAULT_SETTINGS: ResolvedPluginSettings = {
  enabled: PLUGIN_DEFAULTS.enabled,
  priority: undefined,
  weight: PLUGIN_DEFAULTS.weight,
  timeoutMs: parseDuration(PLUGIN_DEFAULTS.timeout),
  failurePolicy: PLUGIN_DEFAULTS.failurePolicy,
  optional: PLUGIN_DEFAULTS.optional,
  mode: PLUGIN_DEFAULTS.mode,
  config: {},
};

export class PluginSet {
  readonly #all: Readonly<Record<PluginType, readonly ActivePlugin[]>>;
  readonly #enabled: Readonly<Record<PluginType, readonly ActivePlugin[]>>;

  private constructor(all: Record<PluginType, ActivePlugin[]>) {
    this.#all = all;
    const enabled = {} as Record<PluginType, ActivePlugin[]>;
    for (const type of PLUGIN_TYPES) enabled[type] = all[type].filter((p) => p.settings.enabled);
    this.#enabled = enabled;
  }

  /** Throws ConfigError when the config names a plugin nobody registered. */
  static build(registry: PluginRegistry, config: ServiceConfig): PluginSet {
    const all = {} as Record<PluginType, ActivePlugin[]>;
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
      all[type] = registered
        .map((r): ActivePlugin => {
          const settings = configured.get(r.name) ?? DEFAULT_SETTINGS;
          return { type, name: r.name, plugin: r.plugin, source: r.source, priority: settings.priority ?? r.priority, settings };
        })
        .sort(byPriority);
    }
    return new PluginSet(all);
  }

  /** Every registered plugin of a type, enabled or not, in chain order. */
  all<T extends PluginType>(type: T): readonly ActivePlugin<T>[] {
    return this.#all[type] as readonly ActivePlugin<T>[];
  }

  /** The chain: enabled plugins in priority order (highest first, ties by name). */
  enabled<T extends PluginType>(type: T): readonly ActivePlugin<T>[] {
    return this.#enabled[type] as readonly ActivePlugin<T>[];
  }
}
