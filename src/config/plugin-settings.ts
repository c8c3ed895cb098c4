/**
 * A plugin's effective settings: what the config says, over the documented defaults of NeuroNetes'
 * built-in plugins (README: Scheduling, Autoscaling, the node agent), over the defaults every plugin
 * gets. So `neuronetes serve` with no config, and a config that leaves a built-in out, run the weights
 * and timeouts the README documents. examples/config/neuronetes.yaml spells the same values out; a test
 * keeps the two in step.
 */
import type { SettingDefaults } from '../plugins/definition.ts';
import type { PluginType } from '../plugins/types.ts';
import { parseDuration } from '../util/duration.ts';
import { PLUGIN_DEFAULTS, type PluginSettings, type ResolvedPluginSettings } from './schema.ts';

export const BUILTIN_DEFAULTS: Readonly<Record<PluginType, Readonly<Record<string, SettingDefaults>>>> = {
  scheduler: {},
  autoscaler: {},
  'model-loader': {},
  guardrail: {},
  'metrics-provider': {},
};

/**
 * `entry` is the config's entry for the plugin, if it lists it; `config` its `config:` block once
 * checked against the plugin's schema, defaults filled in.
 */
export function resolvePluginSettings(type: PluginType, name: string, entry: PluginSettings | undefined, own: SettingDefaults | undefined, config: Readonly<Record<string, unknown>>): ResolvedPluginSettings {
  const builtin = own ?? (Object.hasOwn(BUILTIN_DEFAULTS[type], name) ? BUILTIN_DEFAULTS[type][name] : undefined);
  const enabled = entry?.enabled ?? PLUGIN_DEFAULTS.enabled;
  const needs = builtin?.needs;
  const missing = enabled && needs !== undefined && (config[needs.key] ?? '') === '';
  return {
    enabled: enabled && !missing,
    priority: entry?.priority,
    weight: entry?.weight ?? builtin?.weight ?? PLUGIN_DEFAULTS.weight,
    timeoutMs: parseDuration(entry?.timeout ?? builtin?.timeout ?? PLUGIN_DEFAULTS.timeout),
    failurePolicy: entry?.failurePolicy ?? PLUGIN_DEFAULTS.failurePolicy,
    optional: entry?.optional ?? PLUGIN_DEFAULTS.optional,
    mode: entry?.mode ?? PLUGIN_DEFAULTS.mode,
    config,
    ...(missing ? { off: `off until config.${needs.key} is set (${needs.why})` } : {}),
  };
}
