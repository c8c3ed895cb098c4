/** Turns a config document (YAML text, a ConfigMap, or its mounted directory) into a ServiceConfig. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';
import { resolveAutoscalerConfig } from '../autoscaling/autoscaler-config.ts';
import { TRACE_MAX_BYTES } from '../observability/trace-buffer.ts';
import { parseDuration } from '../util/duration.ts';
import { PLUGIN_TYPES, type PluginType } from '../plugins/types.ts';
import { ConfigDocument, PLUGIN_LIST_KEYS, type PluginSettings, type ServiceConfig } from './schema.ts';

export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

const checkDocument = Compile(ConfigDocument);
const KNOWN_KEYS = new Set(Object.keys(ConfigDocument.properties));

function describeErrors(value: unknown): string {
  return [...checkDocument.Errors(value)]
    .slice(0, 8)
    .map(
      (e) =>
        `${e.instancePath === '' ? '(top level)' : e.instancePath}: ${e.message}${e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : ''}`,
    )
    .join('; ');
}

/**
 * A ConfigMap's `data` values are strings holding YAML (`scheduler-plugins: |`), so a value that is a
 * string for a key that wants a list or an object is parsed once more.
 */
function unwrapConfigMap(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const obj = raw as Record<string, unknown>;
  const data = obj['kind'] === 'ConfigMap' ? obj['data'] : obj;
  if (typeof data !== 'object' || data === null) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    out[key] = typeof value === 'string' && KNOWN_KEYS.has(key) ? parseYaml(value) : value;
  }
  return out;
}

/** Validates a parsed document. Module specifiers from NEURONETES_PLUGINS are appended by the caller. */
export function resolveConfig(raw: unknown, extraModules: readonly string[] = []): ServiceConfig {
  const doc = unwrapConfigMap(raw ?? {});
  if (!checkDocument.Check(doc)) throw new ConfigError(`invalid config: ${describeErrors(doc)}`);
  const plugins = {} as Record<PluginType, Map<string, PluginSettings>>;
  for (const type of PLUGIN_TYPES) {
    const list = (doc[PLUGIN_LIST_KEYS[type]] as PluginSettings[] | undefined) ?? [];
    const byName = new Map<string, PluginSettings>();
    for (const entry of list) {
      if (byName.has(entry.name)) throw new ConfigError(`invalid config: ${PLUGIN_LIST_KEYS[type]} lists "${entry.name}" twice`);
      byName.set(entry.name, entry);
    }
    plugins[type] = byName;
  }
  const modules = [...(doc.plugins ?? []), ...extraModules.filter((m) => !(doc.plugins ?? []).includes(m))];
  return {
    document: doc,
    modules,
    plugins,
    scheduler: {
      requestBudgetMs: parseDuration(doc.scheduler?.requestBudget ?? '3s'),
      unknownPool: doc.scheduler?.unknownPool ?? 'neutral',
      traceSize: doc.scheduler?.traceSize ?? 100,
      wireScores: doc.scheduler?.wireScores ?? 'relative',
      traceBytes: doc.scheduler?.traceBytes ?? TRACE_MAX_BYTES,
    },
    autoscaler: resolveAutoscalerConfig(doc.autoscaler),
    guardrails: { requestBudgetMs: parseDuration(doc.guardrails?.requestBudget ?? '2s') },
  };
}

export function parseConfigText(text: string, extraModules: readonly string[] = []): ServiceConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e: unknown) {
    throw new ConfigError(`invalid config: not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  return resolveConfig(raw, extraModules);
}

/** True for text that holds no YAML document at all (nothing, blanks, comments): what a truncated file reads as. */
export function isEmptyDocument(text: string): boolean {
  try {
    return parseYaml(text) == null;
  } catch {
    return false;
  }
}

/**
 * Reads the config from a YAML file (plain, or a whole ConfigMap manifest) or from a directory where
 * a ConfigMap is mounted (one file per key; Kubernetes' `..data` links are skipped). An empty file is
 * an error, not the defaults: mid-edit (truncated, not yet rewritten) it would turn every disabled
 * plugin back on. `{}` asks for the defaults.
 */
export async function readConfig(path: string, extraModules: readonly string[] = []): Promise<ServiceConfig> {
  let info;
  try {
    info = await stat(path);
  } catch (e: unknown) {
    throw new ConfigError(`cannot read config ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!info.isDirectory()) {
    const text = await readFile(path, 'utf8');
    if (isEmptyDocument(text)) throw new ConfigError(`invalid config: ${path} is empty (no YAML document); write {} for the defaults`);
    return parseConfigText(text, extraModules);
  }
  const data: Record<string, string> = {};
  for (const entry of await readdir(path)) {
    if (entry.startsWith('.')) continue;
    data[entry] = await readFile(join(path, entry), 'utf8');
  }
  const raw: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(data)) {
    try {
      raw[key] = parseYaml(text);
    } catch (e: unknown) {
      throw new ConfigError(`invalid config: ${key} is not valid YAML: ${(e as Error).message}`, { cause: e });
    }
  }
  return resolveConfig(raw, extraModules);
}
