/**
 * The instances a registry's factories made, per plugin and config: a reload that leaves a plugin's
 * config as it was keeps its instance (its clients, pools and compiled rules), a changed config gets
 * a new one. A few configs are kept per plugin, as AgentClasses may override a guardrail's config.
 */
import type { Logger } from 'pino';
import type { PluginBody } from './definition.ts';
import type { RegisteredPlugin } from './registry.ts';
import type { PluginByType, PluginType } from './types.ts';

const KEPT_PER_PLUGIN = 8;

/** The body's methods, bound, plus the definition's name() and priority(): the shape the chains call. */
function complete<T extends PluginType>(entry: RegisteredPlugin<T>, body: PluginBody<T>): PluginByType[T] {
  if (typeof (body as { name?: unknown }).name === 'function') return body as PluginByType[T];
  const plugin: Record<string, unknown> = { name: () => entry.name, priority: () => entry.priority };
  for (let o: object | null = body; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Object.getOwnPropertyNames(o)) {
      const value: unknown = (body as Record<string, unknown>)[key];
      if (key !== 'constructor' && !(key in plugin) && typeof value === 'function') plugin[key] = (value as (...a: unknown[]) => unknown).bind(body);
    }
  }
  return plugin as unknown as PluginByType[T];
}

export class PluginInstances {
  readonly #made = new WeakMap<RegisteredPlugin, Map<string, PluginByType[PluginType]>>();

  instance<T extends PluginType>(entry: RegisteredPlugin<T>, config: Readonly<Record<string, unknown>>, log: Logger): PluginByType[T] {
    let byConfig = this.#made.get(entry);
    if (byConfig === undefined) this.#made.set(entry, (byConfig = new Map()));
    const key = JSON.stringify(config);
    const known = byConfig.get(key);
    if (known !== undefined) return known as PluginByType[T];
    const body = entry.definition.create(config as never, {
      name: entry.name,
      type: entry.type,
      log: log.child({ plugin: entry.name, pluginType: entry.type }),
    });
    const plugin = complete(entry, body);
    if (byConfig.size >= KEPT_PER_PLUGIN) byConfig.delete(byConfig.keys().next().value as string);
    byConfig.set(key, plugin);
    return plugin;
  }
}
