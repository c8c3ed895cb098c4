/**
 * The CustomResourceDefinitions for AgentPool, AgentClass and Model, generated from the TypeBox
 * schemas in neuronetes.ts. `npm run generate:crds` writes them to manifests/crds/; a test fails when
 * the committed files differ from what this produces.
 */
import { stringify } from 'yaml';
import { ObjectMeta } from './kubernetes.ts';
import { AgentClass, AgentPool, AUTOSCALING_LIMITS, GROUP, Model, VERSION } from './neuronetes.ts';
import { toStructural, type StructuralSchema } from './crd-schema.ts';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface CrdSpec {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  schema: { properties: Record<string, unknown> };
  columns: PrinterColumn[];
  /** CEL rules on `spec`. */
  specRules?: { rule: string; message: string }[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
}

/** `path` (a dotted field under spec) is absent or a duration of at most `max`; CEL's duration() fails on overflow too. */
function durationRule(path: string, max: string): { rule: string; message: string } {
  const parts = path.split('.');
  const absent = parts.map((_, i) => `!has(self.${parts.slice(0, i + 1).join('.')})`);
  return { rule: `${absent.join(' || ')} || duration(self.${path}) <= duration('${max}')`, message: `${path} must be a duration of at most ${max}` };
}

const L = AUTOSCALING_LIMITS;

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

const SPECS: readonly CrdSpec[] = [
  {
    kind: 'AgentPool',
    plural: 'agentpools',
    singular: 'agentpool',
    shortNames: ['apool'],
    schema: AgentPool,
    columns: [
      { name: 'Class', type: 'string', jsonPath: '.spec.agentClassRef.name' },
      { name: 'Min', type: 'integer', jsonPath: '.spec.minReplicas' },
      { name: 'Max', type: 'integer', jsonPath: '.spec.maxReplicas' },
      { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
      { name: 'Warm', type: 'integer', jsonPath: '.status.prewarmedReplicas', priority: 1 },
      { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
      { name: 'Target', type: 'string', jsonPath: '.spec.scaleTargetRef.name', priority: 1 },
      { name: 'GPU', type: 'string', jsonPath: '.spec.gpuRequirements.type', priority: 1 },
      { name: 'Scaling', type: 'string', jsonPath: '.status.conditions[?(@.type=="Scaling")].message', priority: 1 },
      { name: 'Capacity', type: 'string', jsonPath: '.status.conditions[?(@.type=="CapacityLimited")].message', priority: 1 },
      { name: 'Why', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].message', priority: 1 },
      AGE,
    ],
    specRules: [
      { rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not exceed maxReplicas' },
      { rule: '!has(self.replicas) || self.replicas <= self.maxReplicas', message: 'replicas must not exceed maxReplicas' },
      durationRule('autoscaling.cooldownPeriod', L.cooldownPeriod),
      durationRule('autoscaling.behavior.scaleUp.stabilizationWindow', L.stabilizationWindow),
      durationRule('autoscaling.behavior.scaleDown.stabilizationWindow', L.stabilizationWindow),
      {
        rule: `!has(self.autoscaling) || !has(self.autoscaling.metrics) || self.autoscaling.metrics.all(m, !has(m.averagingWindow) || duration(m.averagingWindow) <= duration('${L.averagingWindow}'))`,
        message: `autoscaling.metrics[].averagingWindow must be a duration of at most ${L.averagingWindow}`,
      },
      // The target is scaled through /apis/<group>/<version>/…/scale: the core group has no such path here.
      {
        rule: "!has(self.scaleTargetRef) || self.scaleTargetRef.apiVersion.contains('/')",
        message: 'scaleTargetRef.apiVersion must name a group and version, e.g. apps/v1',
      },
    ],
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  },
  {
    kind: 'AgentClass',
    plural: 'agentclasses',
    singular: 'agentclass',
    shortNames: ['aclass'],
    schema: AgentClass,
    columns: [
      { name: 'Model', type: 'string', jsonPath: '.spec.modelRef.name' },
      { name: 'Max-Context', type: 'integer', jsonPath: '.spec.maxContextLength' },
      AGE,
    ],
  },
  {
    kind: 'Model',
    plural: 'models',
    singular: 'model',
    shortNames: ['nnmodel'],
    schema: Model,
    columns: [
      { name: 'Size', type: 'string', jsonPath: '.spec.size' },
      { name: 'Format', type: 'string', jsonPath: '.spec.format' },
      { name: 'Quantization', type: 'string', jsonPath: '.spec.quantization' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Weights', type: 'string', jsonPath: '.spec.weightsURI', priority: 1 },
      AGE,
    ],
  },
];

function openApiSchema(spec: CrdSpec): StructuralSchema {
  const properties: Record<string, StructuralSchema> = {};
  for (const [name, child] of Object.entries(spec.schema.properties)) {
    // The API server owns metadata's schema; a CRD may only say it is an object.
    properties[name] = child === ObjectMeta || name === 'metadata' ? { type: 'object' } : toStructural(child, `${spec.kind}.${name}`);
  }
  const specSchema = properties['spec'];
  if (specSchema !== undefined && spec.specRules !== undefined) specSchema['x-kubernetes-validations'] = spec.specRules;
  return { type: 'object', properties, required: ['spec'] };
}

export interface CrdManifest {
  /** File name under manifests/crds/. */
  file: string;
  object: Record<string, unknown>;
}

export function crdManifests(): CrdManifest[] {
  return SPECS.map((spec) => ({
    file: `${spec.plural}.${GROUP}.yaml`,
    object: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${spec.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'neuronetes' } },
      spec: {
        group: GROUP,
        scope: 'Namespaced',
        names: {
          kind: spec.kind,
          listKind: `${spec.kind}List`,
          plural: spec.plural,
          singular: spec.singular,
          shortNames: spec.shortNames,
          categories: ['neuronetes'],
        },
        versions: [
          {
            name: VERSION,
            served: true,
            storage: true,
            schema: { openAPIV3Schema: openApiSchema(spec) },
            subresources: { status: {}, ...(spec.scale !== undefined ? { scale: spec.scale } : {}) },
            additionalPrinterColumns: spec.columns,
          },
        ],
      },
    },
  }));
}

const HEADER = '# Generated from src/api/neuronetes.ts by `npm run generate:crds`. Do not edit by hand.\n';

export function renderCrd(manifest: CrdManifest): string {
  return HEADER + stringify(manifest.object, { lineWidth: 0 });
}
