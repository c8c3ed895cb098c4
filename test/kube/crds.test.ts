import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { Type } from 'typebox';
import { parse } from 'yaml';
import { crdManifests, renderCrd } from '../../src/api/crd-manifests.ts';
import { CrdSchemaError, toStructural, type StructuralSchema } from '../../src/api/crd-schema.ts';

const CRD_DIR = join(import.meta.dirname, '..', '..', 'manifests', 'crds');

t.test('the committed CRDs are exactly what the TypeBox schemas generate', async (t) => {
  const manifests = crdManifests();
  t.same((await readdir(CRD_DIR)).sort(), manifests.map((m) => m.file).sort(), 'no stale or missing files');
  for (const m of manifests) {
    t.equal(await readFile(join(CRD_DIR, m.file), 'utf8'), renderCrd(m), `${m.file} is up to date (npm run generate:crds)`);
  }
});

/** Every node of a structural schema has a type, or says it keeps unknown fields. */
function checkStructural(schema: StructuralSchema, path: string, problems: string[]): void {
  if (schema['type'] === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) problems.push(`${path}: no type`);
  if (schema['additionalProperties'] === false) problems.push(`${path}: additionalProperties: false`);
  for (const key of ['anyOf', 'oneOf', 'allOf', 'patternProperties']) if (schema[key] !== undefined) problems.push(`${path}: ${key}`);
  if (schema['properties'] !== undefined && schema['additionalProperties'] !== undefined) problems.push(`${path}: properties and additionalProperties`);
  for (const [name, child] of Object.entries((schema['properties'] as Record<string, StructuralSchema> | undefined) ?? {}))
    checkStructural(child, `${path}.${name}`, problems);
  if (typeof schema['additionalProperties'] === 'object') checkStructural(schema['additionalProperties'] as StructuralSchema, `${path}.*`, problems);
  if (schema['items'] !== undefined) checkStructural(schema['items'] as StructuralSchema, `${path}[]`, problems);
}

t.test('structural schemas, subresources, printer columns, validation', async (t) => {
  for (const file of await readdir(CRD_DIR)) {
    const crd = parse(await readFile(join(CRD_DIR, file), 'utf8'));
    const version = crd.spec.versions[0];
    const problems: string[] = [];
    checkStructural(version.schema.openAPIV3Schema, file, problems);
    t.same(problems, [], `${file} is structural`);
    t.same(version.schema.openAPIV3Schema.properties.metadata, { type: 'object' }, 'metadata is left to the API server');
    t.ok(version.subresources.status, `${file} has a status subresource`);
    t.ok(version.additionalPrinterColumns.length >= 2, `${file} has printer columns`);
  }
  const pool = parse(await readFile(join(CRD_DIR, 'agentpools.neuronetes.io.yaml'), 'utf8')).spec.versions[0];
  t.same(pool.subresources.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });
  const spec = pool.schema.openAPIV3Schema.properties.spec;
  t.match(spec['x-kubernetes-validations'], [{ rule: 'self.minReplicas <= self.maxReplicas' }]);
  t.same(spec.properties.gpuRequirements.properties.topology.properties.locality, { type: 'string', enum: ['same-node', 'same-socket', 'nvlink', 'any'] });
  t.same(spec.properties.minReplicas, { type: 'integer', minimum: 0 });
  t.same(spec.properties.scheduling.properties.nodeSelector, { type: 'object', additionalProperties: { type: 'string' } });
  const agentClass = parse(await readFile(join(CRD_DIR, 'agentclasses.neuronetes.io.yaml'), 'utf8')).spec.versions[0];
  t.same(agentClass.schema.openAPIV3Schema.properties.spec.properties.memoryConfig, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
});

t.test('toStructural refuses what has no structural form, naming where', async (t) => {
  t.throws(
    () => toStructural(Type.Object({ q: Type.Union([Type.String(), Type.Number()]) })),
    new CrdSchemaError('.q', 'unions have no structural form; use one type (or x-kubernetes-int-or-string by hand)'),
  );
  t.throws(() => toStructural(Type.Object({ e: Type.Enum(['a', 1]) })), /\.e: enum mixes types/);
  t.throws(() => toStructural(Type.Null()), /no structural form for type "null"/);
  t.same(toStructural(Type.Object({})), { type: 'object', properties: {} });
  t.same(toStructural({ type: 'object' }), { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  t.same(toStructural(Type.Array(Type.Boolean(), { maxItems: 3 })), { type: 'array', maxItems: 3, items: { type: 'boolean' } });
});
