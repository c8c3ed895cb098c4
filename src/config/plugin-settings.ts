/**
 * A plugin's effective settings: what the config says, over the plugin's own defaults (its
 * definition's `defaults`: the built-ins' weights and timeouts the README documents), over the
 * defaults every plugin gets. examples/config/neuronetes.yaml spells the built-ins' values out; a
 * test keeps the two in step.
 */
import type { SettingDefaults } from '../plugins/definition.ts';
import { parseDuration } from '../util/duration.ts';
import { PLUGIN_DEFAULTS, type PluginSettings, type ResolvedPluginSettings } from './schema.ts';

/**
 * `entry` is the config's entry for the plugin, if it lists it; `config` its `config:` block once
 * checked against the plugin's schema, defaults filled in.
 */
export function resolvePluginSettings(
  entry: PluginSettings | undefined,
  own: SettingDefaults | undefined,
  config: Readonly<Record<string, unknown>>,
): ResolvedPluginSettings {
  const enabled = entry?.enabled ?? PLUGIN_DEFAULTS.enabled;
  const needs = own?.needs;
  const missing = enabled && needs !== undefined && (config[needs.key] ?? '') === '';
  return {
    enabled: enabled && !missing,
    priority: entry?.priority,
    weight: entry?.weight ?? own?.weight ?? PLUGIN_DEFAULTS.weight,
    timeoutMs: parseDuration(entry?.timeout ?? own?.timeout ?? PLUGIN_DEFAULTS.timeout),
    failurePolicy: entry?.failurePolicy ?? PLUGIN_DEFAULTS.failurePolicy,
    optional: entry?.optional ?? PLUGIN_DEFAULTS.optional,
    mode: entry?.mode ?? PLUGIN_DEFAULTS.mode,
    config,
    ...(missing ? { off: `off until config.${needs.key} is set (${needs.why})` } : {}),
  };
}
