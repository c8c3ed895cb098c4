/**
 * A built-in plugin's `config:` block, checked key by key against a TypeBox schema. A bad value
 * falls back to that key's default (the other keys still apply) and is logged once per config, so a
 * typo in the ConfigMap degrades one knob instead of failing every scheduling call.
 */
import { Type, type Static, type TObject } from 'typebox';
import { Pointer, Value } from 'typebox/value';
import type { PluginContext } from '../../../src/plugins/types.ts';

/** A size such as "32Gi": positive, no sign or exponent. */
export const PositiveQuantity = Type.String({ pattern: '^(?=.*[1-9])[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$' });

export type PluginConfigReader<T> = (ctx: PluginContext) => T;

export function definePluginConfig<S extends TObject>(plugin: string, schema: S, defaults: Static<S>): PluginConfigReader<Static<S>> {
  // The config object is replaced whole on reload, so it is the cache key.
  const cache = new WeakMap<object, Static<S>>();
  const known = Object.keys(schema.properties);
  // …and every call of a pass passes the same one: checked first, it spares the WeakMap lookup.
  let last: { config: object; resolved: Static<S> } | undefined;
  return (ctx) => {
    if (last?.config === ctx.config) return last.resolved;
    const cached = cache.get(ctx.config);
    if (cached !== undefined) {
      last = { config: ctx.config, resolved: cached };
      return cached;
    }
    const resolved: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    const problems: string[] = [];
    for (const [key, value] of Object.entries(ctx.config)) {
      const property = schema.properties[key];
      if (property === undefined) {
        problems.push(`unknown key "${key}" ignored (known keys: ${known.join(', ')})`);
        continue;
      }
      const error = Value.Errors(property, value)[0];
      if (error === undefined) resolved[key] = value;
      else problems.push(`${key}${error.instancePath} ${error.message} (got ${JSON.stringify(Pointer.Get(value, error.instancePath))}); using the default ${JSON.stringify(resolved[key])}`);
    }
    if (problems.length > 0) ctx.log.warn({ problems }, `${plugin} config: ${problems.join('; ')}`);
    const config = resolved as Static<S>;
    cache.set(ctx.config, config);
    last = { config: ctx.config, resolved: config };
    return config;
  };
}
