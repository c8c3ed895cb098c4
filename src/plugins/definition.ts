/**
 * A plugin as a definition and a factory — kube-scheduler's `New(args, handle)`, fastify's plugin
 * options: the definition names the plugin and its config schema (TypeBox, with defaults), and the
 * service calls `create` with the validated config whenever that config changes.
 *
 *   export default definePlugin({
 *     type: 'scheduler', name: 'my-plugin',
 *     config: Type.Object({ strategy: Type.Enum(['pack', 'spread'], { default: 'pack' }) }),
 *     create: (config) => ({ score: (ctx, pod, node) => (config.strategy === 'pack' ? 100 : 0) }),
 *   });
 */
import type { Logger } from 'pino';
import type { Static, TObject } from 'typebox';
import type { PluginByType, PluginType } from './types.ts';

/** What a factory gets besides its config: who it is, and a logger bound to it. */
export interface PluginHandle {
  readonly name: string;
  readonly type: PluginType;
  readonly log: Logger;
}

/** A plugin instance as a factory makes it: the definition supplies name() and priority(). */
export type PluginBody<T extends PluginType> = Omit<PluginByType[T], 'name' | 'priority'>;

/** Defaults of the per-plugin settings that sit beside `config:` in the ConfigMap. */
export interface SettingDefaults {
  readonly weight?: number;
  readonly timeout?: string;
  /** A config key the plugin cannot work without: until it is set the plugin stays off, saying why. */
  readonly needs?: { readonly key: string; readonly why: string };
}

/*
 * `out S` and `NoInfer` let TypeScript compare definitions by their schema type alone instead of
 * expanding `Static<S>` structurally: a one-plugin package type-checks in 0.4 s, not 6 s.
 */
export interface PluginDefinition<T extends PluginType = PluginType, out S extends TObject = TObject> {
  readonly type: T;
  /** Lower-case letters, digits, '-' or '.', at most 63: the name the ConfigMap lists. */
  readonly name: string;
  /** Higher runs first; the config's `priority` overrides it; default 100. */
  readonly priority?: number;
  /** The `config:` block's schema; each property's `default` applies when the block leaves it out. */
  readonly config?: S;
  readonly defaults?: SettingDefaults;
  create(config: NoInfer<Static<S>>, handle: PluginHandle): PluginBody<T>;
}

/** Identity, for type inference: `config` in `create` is typed from the schema. */
export function definePlugin<T extends PluginType, S extends TObject>(definition: PluginDefinition<T, S>): PluginDefinition<T, S> {
  return definition;
}
