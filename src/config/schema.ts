/**
 * The plugin configuration: the plugin guide's ConfigMap format (`scheduler-plugins:` lists of
 * `{name, enabled, priority, config}`), extended per plugin with weight, timeout, failurePolicy and
 * mode, plus service-wide settings. Validated with this schema; durations parsed strictly after.
 */
import { Type, type Static } from 'typebox';
import { DURATION_PATTERN } from '../api/neuronetes.ts';
import { AutoscalerSettings, type AutoscalerConfig } from '../autoscaling/autoscaler-config.ts';
import type { PluginType } from '../plugins/types.ts';

const Duration = Type.String({ pattern: DURATION_PATTERN });

export const PluginSettings = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    enabled: Type.Optional(Type.Boolean()),
    priority: Type.Optional(Type.Integer()),
    /** Score weight (scheduler plugins): each plugin's 0..100 score counts this much in the mean. */
    weight: Type.Optional(Type.Number({ minimum: 0 })),
    timeout: Type.Optional(Duration),
    /**
     * Ignore: an error or timeout costs the plugin its answer, not the request. Fail: it fails the
     * whole request, with its name. A filter's missing answer still rejects the node unless `optional`.
     */
    failurePolicy: Type.Optional(Type.Enum(['Ignore', 'Fail'])),
    /**
     * Scheduler plugins: under Ignore, a filter (or allowEviction) that fails lets the nodes (victims)
     * it did not answer for through. Default false: they are rejected (vetoed), so a broken plugin
     * never widens placement.
     */
    optional: Type.Optional(Type.Boolean()),
    /** shadow: runs and is traced, but does not change the answer. */
    mode: Type.Optional(Type.Enum(['enforce', 'shadow'])),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type PluginSettings = Static<typeof PluginSettings>;

const PluginList = Type.Array(PluginSettings);

export const ConfigDocument = Type.Object(
  {
    /** Module specifiers (npm packages or file paths) imported at start-up so their plugins register. */
    plugins: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    'scheduler-plugins': Type.Optional(PluginList),
    'autoscaler-plugins': Type.Optional(PluginList),
    'model-loader-plugins': Type.Optional(PluginList),
    'guardrail-plugins': Type.Optional(PluginList),
    'metrics-provider-plugins': Type.Optional(PluginList),
    scheduler: Type.Optional(
      Type.Object(
        {
          /** Time the extender allows itself per call; kube-scheduler's httpTimeout defaults to 5s. */
          requestBudget: Type.Optional(Duration),
          /** What a pod labelled with a pool the extender does not know gets. */
          unknownPool: Type.Optional(Type.Enum(['neutral', 'reject'])),
          traceSize: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
          /** relative: the best node always strictly ahead on the wire; absolute: round(total / 10). */
          wireScores: Type.Optional(Type.Enum(['relative', 'absolute'])),
          /** The most each /debug trace ring holds, in bytes of JSON, whatever its traceSize (default 16 MiB). */
          traceBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 * 1024 * 1024 })),
        },
        { additionalProperties: false },
      ),
    ),
    autoscaler: Type.Optional(AutoscalerSettings),
    guardrails: Type.Optional(
      Type.Object(
        {
          /** Time the whole guardrail chain gets per check (default 2s); each guardrail's timeout is cut to it. */
          requestBudget: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ConfigDocument = Static<typeof ConfigDocument>;

export const PLUGIN_LIST_KEYS: Readonly<Record<PluginType, keyof ConfigDocument>> = {
  scheduler: 'scheduler-plugins',
  autoscaler: 'autoscaler-plugins',
  'model-loader': 'model-loader-plugins',
  guardrail: 'guardrail-plugins',
  'metrics-provider': 'metrics-provider-plugins',
};

/** Per-plugin settings with every default applied and durations parsed. */
export interface ResolvedPluginSettings {
  readonly enabled: boolean;
  readonly priority: number | undefined;
  readonly weight: number;
  readonly timeoutMs: number;
  readonly failurePolicy: 'Ignore' | 'Fail';
  readonly optional: boolean;
  readonly mode: 'enforce' | 'shadow';
  readonly config: Readonly<Record<string, unknown>>;
  /** Why the plugin is off although nothing turned it off (a setting it cannot run without is missing). */
  readonly off?: string;
}

export const PLUGIN_DEFAULTS = {
  enabled: true,
  weight: 1,
  /** The plugin guide's timeout. */
  timeout: '5s',
  failurePolicy: 'Ignore',
  optional: false,
  mode: 'enforce',
} as const;

export interface ServiceConfig {
  readonly document: ConfigDocument;
  readonly modules: readonly string[];
  /** Each plugin list's entries by name, as written: a plugin's defaults and schema apply when its set is built. */
  readonly plugins: Readonly<Record<PluginType, ReadonlyMap<string, PluginSettings>>>;
  readonly scheduler: {
    readonly requestBudgetMs: number;
    readonly unknownPool: 'neutral' | 'reject';
    readonly traceSize: number;
    readonly traceBytes: number;
    readonly wireScores: 'relative' | 'absolute';
  };
  readonly autoscaler: AutoscalerConfig;
  readonly guardrails: { readonly requestBudgetMs: number };
}
