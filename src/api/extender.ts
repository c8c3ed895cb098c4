/**
 * kube-scheduler extender wire types (k8s.io/kube-scheduler/extender/v1, Kubernetes v1.32). The Go
 * structs have no json tags, so field names are PascalCase on the wire.
 */
import { Type, type Static } from 'typebox';
import { MapOf, NodeList, Pod } from './kubernetes.ts';

/** kube-scheduler's MaxExtenderPriority: wire scores are the integers 0..10. */
export const MAX_EXTENDER_PRIORITY = 10;

export const ExtenderArgs = Type.Object({
  Pod: Pod,
  Nodes: Type.Optional(Type.Union([NodeList, Type.Null()])),
  NodeNames: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
});
export type ExtenderArgs = Static<typeof ExtenderArgs>;

const FailedNodesMap = MapOf(Type.String());

export const ExtenderFilterResult = Type.Object({
  /** Returned as received (only the kept items), so the schema lets every field through. */
  Nodes: Type.Optional(Type.Union([Type.Unknown(), Type.Null()])),
  NodeNames: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  FailedNodes: FailedNodesMap,
  FailedAndUnresolvableNodes: FailedNodesMap,
  Error: Type.String(),
});
export type ExtenderFilterResult = Static<typeof ExtenderFilterResult>;

const HostPriority = Type.Object({ Host: Type.String(), Score: Type.Integer() });
export const HostPriorityList = Type.Array(HostPriority);
export type HostPriorityList = Static<typeof HostPriorityList>;

export const ExtenderBindingArgs = Type.Object({
  PodName: Type.String({ minLength: 1 }),
  PodNamespace: Type.String({ minLength: 1 }),
  PodUID: Type.String(),
  Node: Type.String({ minLength: 1 }),
});
export type ExtenderBindingArgs = Static<typeof ExtenderBindingArgs>;

export const ExtenderBindingResult = Type.Object({ Error: Type.String() });
export type ExtenderBindingResult = Static<typeof ExtenderBindingResult>;

const MetaPod = Type.Object({ UID: Type.String() });
const Victims = Type.Object({ Pods: Type.Union([Type.Array(Pod), Type.Null()]), NumPDBViolations: Type.Optional(Type.Integer()) });
const MetaVictims = Type.Object({ Pods: Type.Union([Type.Array(MetaPod), Type.Null()]), NumPDBViolations: Type.Optional(Type.Integer()) });

export const ExtenderPreemptionArgs = Type.Object({
  Pod: Pod,
  NodeNameToVictims: Type.Optional(Type.Union([MapOf(Victims), Type.Null()])),
  NodeNameToMetaVictims: Type.Optional(Type.Union([MapOf(MetaVictims), Type.Null()])),
});
export type ExtenderPreemptionArgs = Static<typeof ExtenderPreemptionArgs>;

export const ExtenderPreemptionResult = Type.Object({
  NodeNameToMetaVictims: MapOf(Type.Object({ Pods: Type.Array(MetaPod), NumPDBViolations: Type.Integer() })),
});
export type ExtenderPreemptionResult = Static<typeof ExtenderPreemptionResult>;
