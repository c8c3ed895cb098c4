/**
 * TypeBox (JSON Schema) → Kubernetes structural OpenAPI v3 schema, so the CRDs are generated from
 * the same schemas that type and validate the objects in TypeScript. Structural means: every node
 * has a `type` (or says it preserves unknown fields), maps use `additionalProperties`, and
 * `additionalProperties: false` is dropped (the API server prunes unknown fields instead).
 * Constructs with no structural equivalent throw, so a schema change cannot slip through unconverted.
 */

export type JsonSchema = { [key: string]: unknown };
export type StructuralSchema = { [key: string]: unknown };

/** Keywords copied as they are. */
const COPIED = [
  'description',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
  'format',
  'default',
] as const;

export class CrdSchemaError extends Error {
  constructor(path: string, message: string) {
    super(`${path === '' ? '(root)' : path}: ${message}`);
    this.name = 'CrdSchemaError';
  }
}

function enumType(values: readonly unknown[], path: string): string {
  const types = new Set(values.map((v) => (Number.isInteger(v) ? 'integer' : typeof v)));
  if (types.size !== 1) throw new CrdSchemaError(path, `enum mixes types (${[...types].join(', ')})`);
  const [type] = types as Set<string>;
  if (!['string', 'integer', 'number', 'boolean'].includes(type as string)) throw new CrdSchemaError(path, `enum of ${type} values`);
  return type as string;
}

const isUnknown = (s: JsonSchema): boolean => Object.keys(s).filter((k) => k !== 'description').length === 0;

export function toStructural(input: unknown, path = ''): StructuralSchema {
  // TypeBox schemas carry non-enumerable markers; JSON is what the API server will see.
  const schema = JSON.parse(JSON.stringify(input)) as JsonSchema;
  const out: StructuralSchema = {};
  for (const key of COPIED) if (schema[key] !== undefined) out[key] = schema[key];

  if (isUnknown(schema)) return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  if (Array.isArray(schema['enum'])) return { type: enumType(schema['enum'], path), ...out, enum: schema['enum'] };
  if (schema['anyOf'] !== undefined || schema['oneOf'] !== undefined || schema['allOf'] !== undefined) {
    throw new CrdSchemaError(path, 'unions have no structural form; use one type (or x-kubernetes-int-or-string by hand)');
  }
  const type = schema['type'];
  switch (type) {
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      return { type, ...out };
    case 'array':
      return { type, ...out, items: toStructural(schema['items'], `${path}[]`) };
    case 'object': {
      const properties = schema['properties'] as Record<string, unknown> | undefined;
      const pattern = schema['patternProperties'] as Record<string, unknown> | undefined;
      if (properties !== undefined) {
        const mapped: Record<string, StructuralSchema> = {};
        for (const [name, child] of Object.entries(properties)) mapped[name] = toStructural(child, `${path}.${name}`);
        const required = schema['required'] as string[] | undefined;
        return { type, ...out, properties: mapped, ...(required !== undefined && required.length > 0 ? { required } : {}) };
      }
      if (pattern !== undefined) {
        const values = Object.values(pattern);
        if (values.length !== 1) throw new CrdSchemaError(path, 'a map needs exactly one patternProperties entry');
        const value = toStructural(values[0], `${path}.*`);
        if (value['x-kubernetes-preserve-unknown-fields'] === true) return { type, ...out, 'x-kubernetes-preserve-unknown-fields': true };
        return { type, ...out, additionalProperties: value };
      }
      return { type, ...out, 'x-kubernetes-preserve-unknown-fields': true };
    }
    default:
      throw new CrdSchemaError(path, `no structural form for type ${JSON.stringify(type)}`);
  }
}
