/**
 * Reads a built-in plugin's `config:` block against its TypeBox schema, once per config object (a
 * reload brings a new object). A bad block fails the call that reads it, naming the plugin, so the
 * plugin's failurePolicy decides what happens.
 */
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export function configReader<S extends TSchema>(plugin: string, schema: S): (config: Readonly<Record<string, unknown>>) => Static<S> {
  const check = Compile(schema);
  const seen = new WeakMap<object, Static<S>>();
  return (config) => {
    const known = seen.get(config);
    if (known !== undefined) return known;
    if (!check.Check(config)) {
      const first = [...check.Errors(config)][0];
      throw new TypeError(`${plugin}: invalid config: ${first?.instancePath || '(top level)'} ${first?.message ?? ''}`.trim());
    }
    seen.set(config, config as Static<S>);
    return config as Static<S>;
  };
}
