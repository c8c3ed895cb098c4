/**
 * The README's "Every field of the CRDs" tables, one per kind under a `#### <kind>` heading, against
 * the generated CRDs: every field under spec and status is listed (a nested one through its parent's
 * `{a, b? {c}}` list), and every field listed exists, so a field added or removed without its
 * documented effect fails here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { crdManifests } from '../../src/api/crd-manifests.ts';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
}

/** Every property path under `prefix`, through objects and arrays of objects (`a.b`, arrays unmarked). */
function schemaPaths(schema: Schema, prefix: string): string[] {
  const object = schema.type === 'array' ? schema.items : schema;
  return Object.entries(object?.properties ?? {}).flatMap(([name, child]) => [`${prefix}.${name}`, ...schemaPaths(child, `${prefix}.${name}`)]);
}

/**
 * The paths one table cell's code span names: `spec.a.b/c {d, e? {f}}` names spec.a.b, spec.a.c and
 * each of their d, e, e.f. `?` (optional) and `[]` (a list) are marks, not names.
 */
function documentedPaths(span: string): string[] {
  let at = 0;
  const paths: string[] = [];
  const skipSpaces = (): void => {
    while (span[at] === ' ') at++;
  };
  const item = (prefixes: readonly string[]): void => {
    const name = /^[A-Za-z0-9_./[\]?]+/.exec(span.slice(at))?.[0] ?? '';
    if (name === '') throw new Error(`cannot read "${span}" at ${at}`);
    at += name.length;
    const dotted = name.replaceAll('?', '').replaceAll('[]', '').split('.');
    const last = dotted.pop() ?? '';
    const bases = prefixes.flatMap((p) => last.split('/').map((alt) => [p, ...dotted, alt].filter((s) => s !== '').join('.')));
    paths.push(...bases);
    skipSpaces();
    if (span[at] !== '{') return;
    at++;
    for (;;) {
      skipSpaces();
      item(bases);
      skipSpaces();
      const c = span[at++];
      if (c === '}') break;
      if (c !== ',') throw new Error(`cannot read "${span}" at ${at - 1}`);
    }
  };
  item(['']);
  return paths;
}

type Crd = { spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: Schema } }[] } };

/** Every field under spec and status of one CRD. */
function crdFields(crd: Crd): string[] {
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
  return ['spec', 'status'].flatMap((top) => schemaPaths(root?.properties?.[top] ?? {}, top));
}

/** The fields a kind's table names in its first column. */
function documentedFields(readme: string, kind: string): Set<string> {
  const section = readme.split('\n### Every field of the CRDs\n')[1]?.split(/\n#{2,3} /)[0] ?? '';
  const table = section.split('\n#### ').find((part) => part.startsWith(`${kind}\n`)) ?? '';
  const rows = table.split('\n').filter((line) => line.startsWith('| `'));
  return new Set(rows.flatMap((row) => [...(row.split(' | ')[0] ?? '').matchAll(/`([^`]+)`/g)].flatMap((m) => documentedPaths(m[1] ?? ''))));
}

const crds = crdManifests().map((m) => m.object as unknown as Crd);
const readme = await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

t.test('the walk reaches nested fields', async (t) => {
  const pool = crds.find((c) => c.spec.names.kind === 'AgentPool');
  t.ok(pool !== undefined && crdFields(pool).includes('status.conditions.reason'), 'AgentPool status.conditions.reason is found');
});

for (const crd of crds) {
  const kind = crd.spec.names.kind;
  t.test(`every ${kind} field is in the README's table, and every field there is in the CRD`, async (t) => {
    const fields = crdFields(crd);
    const documented = documentedFields(readme, kind);
    t.ok(documented.size > 0, `the ${kind} table is found`);
    // A parent (spec.scheduling) counts as listed through any of its fields.
    const listed = (field: string): boolean => documented.has(field) || [...documented].some((d) => d.startsWith(`${field}.`));
    t.same(
      fields.filter((f) => !listed(f)),
      [],
      'CRD fields missing from the table',
    );
    t.same(
      [...documented].filter((d) => !fields.includes(d)),
      [],
      'fields in the table that the CRD does not have',
    );
  });
}
