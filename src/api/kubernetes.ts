/**
 * The slice of core/v1 objects NeuroNetes reads, as TypeBox schemas. Kubernetes JSON carries far more
 * than this; the schemas name only what we read and let everything else through untouched, so objects
 * pass back to kube-scheduler exactly as they came.
 */
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';

/**
 * A Go map[string]T: an object whose every value matches `value`. Not Type.Record, whose
 * `patternProperties: {"^.*$": …}` costs a regex test per key (NodeLists are mostly such maps) and
 * skips keys holding a line break; `additionalProperties` checks every key, with no regex.
 */
export const MapOf = <T extends TSchema>(value: T): TUnsafe<Record<string, Static<T>>> =>
  Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: value });

const StringMap = MapOf(Type.String());
/** Quantities arrive as strings ("80Gi") but clients also send plain numbers. */
const QuantityValue = Type.Union([Type.String(), Type.Number()]);
const ResourceList = MapOf(QuantityValue);

export const OwnerReference = Type.Object({
  apiVersion: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  uid: Type.Optional(Type.String()),
  controller: Type.Optional(Type.Boolean()),
});
export type OwnerReference = Static<typeof OwnerReference>;

export const ObjectMeta = Type.Object({
  name: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  labels: Type.Optional(StringMap),
  annotations: Type.Optional(StringMap),
  ownerReferences: Type.Optional(Type.Array(OwnerReference)),
  resourceVersion: Type.Optional(Type.String()),
  creationTimestamp: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** Set while the object is being deleted (a pod in its grace period: Terminating). */
  deletionTimestamp: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type ObjectMeta = Static<typeof ObjectMeta>;

const ResourceRequirements = Type.Object({
  requests: Type.Optional(ResourceList),
  limits: Type.Optional(ResourceList),
});

export const Container = Type.Object({
  name: Type.Optional(Type.String()),
  resources: Type.Optional(ResourceRequirements),
});
export type Container = Static<typeof Container>;

export const Pod = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: ObjectMeta,
  spec: Type.Optional(
    Type.Object({
      nodeName: Type.Optional(Type.String()),
      schedulerName: Type.Optional(Type.String()),
      priority: Type.Optional(Type.Integer()),
      nodeSelector: Type.Optional(StringMap),
      containers: Type.Optional(Type.Array(Container)),
      initContainers: Type.Optional(Type.Array(Container)),
    }),
  ),
  status: Type.Optional(Type.Object({ phase: Type.Optional(Type.String()) })),
});
export type Pod = Static<typeof Pod>;

const NodeCondition = Type.Object({ type: Type.String(), status: Type.String() });

/** kube-scheduler keeps pods off the NoSchedule taints they do not tolerate; plugins may read them too. */
export const Taint = Type.Object({ key: Type.String(), value: Type.Optional(Type.String()), effect: Type.String() });
export type Taint = Static<typeof Taint>;

export const Node = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: Type.Object({ ...ObjectMeta.properties, name: Type.String({ minLength: 1 }) }),
  spec: Type.Optional(Type.Object({ unschedulable: Type.Optional(Type.Boolean()), taints: Type.Optional(Type.Array(Taint)) })),
  status: Type.Optional(
    Type.Object({
      capacity: Type.Optional(ResourceList),
      allocatable: Type.Optional(ResourceList),
      conditions: Type.Optional(Type.Array(NodeCondition)),
    }),
  ),
});
export type Node = Static<typeof Node>;

export const NodeList = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: Type.Optional(Type.Object({})),
  items: Type.Array(Node),
});
export type NodeList = Static<typeof NodeList>;

/** Any namespaced object we may meet while walking owner references (ReplicaSet, StatefulSet…). */
export interface OwnedObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export function podKey(pod: { metadata: ObjectMeta }): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? '<unnamed>'}`;
}

export const GPU_RESOURCE = 'nvidia.com/gpu';
