/**
 * A plugin's `config:` block checked against its definition's schema, defaults filled in. Problems
 * come back as sentences naming the key, the value and what is allowed, so check-config, start-up and
 * a hot reload (which keeps the last good config) all say exactly what to fix.
 */
import type { TObject, TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { Pointer, Value } from 'typebox/value';

interface SchemaError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message: string;
}

const compiled = new WeakMap<TObject, Validator>();

function checkerOf(schema: TObject): Validator {
  let checker = compiled.get(schema);
  if (checker === undefined) compiled.set(schema, (checker = Compile(schema as TSchema) as Validator));
  return checker;
}

function keyPath(instancePath: string): string {
  return `config${instancePath.replace(/\/(\d+)(?=\/|$)/g, '[$1]').replaceAll('/', '.')}`;
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** One sentence per wrong key: anyOf's per-branch `const` errors become one list of allowed values. */
function describe(errors: readonly SchemaError[], value: unknown, schema: TObject): string[] {
  const byPath = new Map<string, SchemaError[]>();
  for (const e of errors) {
    if (e.keyword === 'boolean') continue; // additionalProperties: false reports each key twice
    byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  }
  const out: string[] = [];
  for (const [path, list] of byPath) {
    const extra = list.find((e) => e.keyword === 'additionalProperties');
    if (extra !== undefined) {
      const keys = extra.params['additionalProperties'] as string[];
      const known = Object.keys(
        (path === '' ? schema : ((Pointer.Get(schema, `/properties${path.replaceAll('/', '/properties/')}`) as TObject | undefined) ?? schema)).properties ??
          {},
      );
      for (const k of keys) out.push(`${keyPath(`${path}/${k}`)} is not a setting of this plugin; known keys: ${known.join(', ') || '(none)'}`);
      continue;
    }
    const required = list.find((e) => e.keyword === 'required');
    if (required !== undefined) {
      for (const k of required.params['requiredProperties'] as string[])
        out.push(`${keyPath(`${path}/${k}`)} is not set, and the plugin has no default for it`);
      continue;
    }
    const got = show(Pointer.Get(value as object, path));
    const allowed = list.flatMap((e) =>
      e.keyword === 'enum' ? (e.params['allowedValues'] as unknown[]) : e.keyword === 'const' ? [e.params['allowedValue']] : [],
    );
    if (allowed.length > 0) {
      out.push(`${keyPath(path)} is ${got}; allowed values: ${allowed.map(show).join(', ')}`);
      continue;
    }
    const first = list.find((e) => e.keyword !== 'anyOf') ?? (list[0] as SchemaError);
    out.push(`${keyPath(path)} is ${got}; it ${first.message}`);
  }
  return out;
}

export type ConfigResult<C> = { readonly ok: true; readonly config: C } | { readonly ok: false; readonly problems: readonly string[] };

/** `raw` is never modified; the result is a new, frozen object with the schema's defaults applied. */
export function resolvePluginConfig<C>(schema: TObject | undefined, raw: Readonly<Record<string, unknown>>): ConfigResult<C> {
  if (schema === undefined) return { ok: true, config: raw as C };
  const value = Value.Default(schema, structuredClone(raw)) as Record<string, unknown>;
  const checker = checkerOf(schema);
  if (checker.Check(value)) return { ok: true, config: Object.freeze(value) as C };
  return { ok: false, problems: describe([...checker.Errors(value)] as SchemaError[], value, schema) };
}
