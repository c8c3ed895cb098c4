/**
 * NeuroNetes custom resources (neuronetes.io/v1alpha1) as TypeBox schemas: one source of truth for
 * the TypeScript types, request validation and the CRDs' OpenAPI schemas.
 */
import { Type, type Static } from 'typebox';
import { ObjectMeta } from './kubernetes.ts';

export const GROUP = 'neuronetes.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Go/Kubernetes duration strings: 30s, 1m, 1h30m, 500ms. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';
const Duration = Type.String({ pattern: DURATION_PATTERN });
const Quantity = Type.String({ pattern: '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i?|[mun]|k)?$' });
const StringMap = Type.Record(Type.String(), Type.String());
const ObjectReference = Type.Object({ name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String()) });
export const Condition = Type.Object({
  type: Type.String(),
  status: Type.String(),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  lastTransitionTime: Type.Optional(Type.String()),
});
export type Condition = Static<typeof Condition>;

export const METRIC_TYPES = [
  'tokens-in-queue',
  'ttft-p95',
  'concurrent-sessions',
  'tokens-per-second',
  'queue-depth',
  'context-length',
  'tool-call-rate',
] as const;

/**
 * Upper bounds of a pool's autoscaling durations: HPA's own for the policy period (1800 s) and the
 * stabilization window (1 h); a day of cooldown and an hour of averaging are already far past use.
 * Longer ones would only freeze a pool (unbounded, they overflow the times in every decision). The
 * CRD enforces them (CEL rules in crd-manifests.ts); the autoscaler checks them again for pools
 * stored before, or read from files.
 */
export const AUTOSCALING_LIMITS = { periodSeconds: 1800, stabilizationWindow: '1h', cooldownPeriod: '24h', averagingWindow: '1h' } as const;

export const MetricSpec = Type.Object({
  type: Type.String({ minLength: 1 }),
  target: Type.String({ minLength: 1 }),
  averagingWindow: Type.Optional(Duration),
});
export type MetricSpec = Static<typeof MetricSpec>;

export const ScalingRules = Type.Object({
  stabilizationWindow: Type.Optional(Duration),
  maxChangePercent: Type.Optional(Type.Integer({ minimum: 0 })),
  maxChangeAbsolute: Type.Optional(Type.Integer({ minimum: 0 })),
  periodSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: AUTOSCALING_LIMITS.periodSeconds })),
  /** HPA's selectPolicy: which limit wins when both maxChange* are set (Max: the larger change). */
  selectPolicy: Type.Optional(Type.Enum(['Max', 'Min', 'Disabled'])),
  /** HPA's per-direction tolerance: ratios within it of 1 do not scale in this direction. */
  tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});
export type ScalingRules = Static<typeof ScalingRules>;

export const GpuRequirements = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  memory: Type.Optional(Quantity),
  type: Type.Optional(Type.String()),
  topology: Type.Optional(
    Type.Object({
      locality: Type.Enum(['same-node', 'same-socket', 'nvlink', 'any']),
      minBandwidth: Type.Optional(Quantity),
    }),
  ),
});
export type GpuRequirements = Static<typeof GpuRequirements>;

/** What runs a pool's agents, named as HPA's and KEDA's `scaleTargetRef`: any object with a scale subresource. */
export const ScaleTargetRef = Type.Object({
  apiVersion: Type.String({ minLength: 1, description: 'group/version of the target, e.g. apps/v1' }),
  kind: Type.String({ minLength: 1, description: 'e.g. Deployment, StatefulSet, LeaderWorkerSet' }),
  name: Type.String({ minLength: 1, description: "the target's name, in the pool's namespace" }),
});
export type ScaleTargetRef = Static<typeof ScaleTargetRef>;

export const AgentPoolSpec = Type.Object({
  agentClassRef: ObjectReference,
  scaleTargetRef: Type.Optional(ScaleTargetRef),
  minReplicas: Type.Integer({ minimum: 0 }),
  maxReplicas: Type.Integer({ minimum: 1 }),
  replicas: Type.Optional(Type.Integer({ minimum: 0 })),
  prewarmPercent: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 100,
      description:
        'Warm headroom: the target is scaled to replicas + ceil(replicas × prewarmPercent / 100), never above maxReplicas; a pool at 0 replicas keeps none warm. The autoscaler, KEDA and kubectl scale keep counting serving replicas (spec.replicas).',
    }),
  ),
  migProfile: Type.Optional(Type.String()),
  autoscaling: Type.Optional(
    Type.Object({
      metrics: Type.Optional(Type.Array(MetricSpec)),
      behavior: Type.Optional(Type.Object({ scaleUp: Type.Optional(ScalingRules), scaleDown: Type.Optional(ScalingRules) })),
      cooldownPeriod: Type.Optional(Duration),
      // No schema `default` (see scheduling.priority); absent reads as true.
      requestUnplaceable: Type.Optional(
        Type.Boolean({
          description:
            "When a scale-up asks for more replicas than the pool's scheduler filters can place now (free GPUs of its type, MIG slices, cost caps, node selectors): true (default) asks for them anyway, so that their pending pods make a cluster autoscaler such as Karpenter add nodes; false holds the scale-up at what can be placed (clusters that cannot grow). Either way the decision's capacity stage and the CapacityLimited condition say what was short.",
        }),
      ),
    }),
  ),
  gpuRequirements: Type.Optional(GpuRequirements),
  scheduling: Type.Optional(
    Type.Object({
      // No schema `default`: the routes' Ajv (strict) rejects it inside the pool bodies; absent reads as 0.
      priority: Type.Optional(
        Type.Integer({
          description:
            "Orders pools when GPUs are short (default 0): with the pool-priority plugin, a pending pod of this pool may preempt only replicas of pools of strictly lower priority, never below their minReplicas and, by default, not through a PodDisruptionBudget. Pods of no pool keep kube-scheduler's own PriorityClass rules.",
        }),
      ),
      costOptimization: Type.Optional(
        Type.Object({
          enabled: Type.Boolean(),
          maxCostPerHour: Type.Optional(Type.Number({ minimum: 0 })),
          spotEnabled: Type.Optional(Type.Boolean()),
          sloHeadroomMs: Type.Optional(
            Type.Integer({
              minimum: 0,
              description:
                "The cost score prefers cheaper nodes only while the pool's latency metric (ttft-p95, from status.currentMetrics) is at least this many ms below its target; closer, performance scores decide.",
            }),
          ),
        }),
      ),
      dataLocality: Type.Optional(
        Type.Object({
          vectorStoreAffinity: Type.Optional(Type.Array(Type.String())),
          cacheAffinity: Type.Optional(Type.Array(Type.String())),
          antiAffinity: Type.Optional(Type.Array(Type.String())),
        }),
      ),
      nodeSelector: Type.Optional(StringMap),
    }),
  ),
});
export type AgentPoolSpec = Static<typeof AgentPoolSpec>;

export const AgentPoolStatus = Type.Object({
  replicas: Type.Optional(Type.Integer()),
  selector: Type.Optional(Type.String({ description: "The label selector of the pool's pods (the scale subresource's labelSelectorPath)." })),
  readyReplicas: Type.Optional(Type.Integer()),
  prewarmedReplicas: Type.Optional(Type.Integer({ description: "Ready pods beyond spec.replicas, up to the pool's warm headroom (spec.prewarmPercent)." })),
  currentMetrics: Type.Optional(
    Type.Array(
      Type.Object({
        type: Type.String(),
        current: Type.String(),
        target: Type.String(),
        timestamp: Type.Optional(Type.String()),
      }),
    ),
  ),
  lastScaleTime: Type.Optional(Type.String()),
  conditions: Type.Optional(Type.Array(Condition)),
  autoscalerState: Type.Optional(
    Type.String({
      description: "The autoscaler's history for this pool (JSON, a few KB), written by the leader so a restart resumes stabilization and rate limits.",
    }),
  ),
});

export const AgentPool = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: Type.Object({ ...ObjectMeta.properties, name: Type.String({ minLength: 1 }) }),
  spec: AgentPoolSpec,
  status: Type.Optional(AgentPoolStatus),
});
export type AgentPool = Static<typeof AgentPool>;

export const GuardrailSpec = Type.Object({
  type: Type.String({ minLength: 1 }),
  action: Type.Enum(['block', 'redact', 'warn', 'log']),
  config: Type.Optional(StringMap),
  threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});
export type GuardrailSpec = Static<typeof GuardrailSpec>;

export const AgentClass = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: Type.Object({ ...ObjectMeta.properties, name: Type.String({ minLength: 1 }) }),
  spec: Type.Object({
    modelRef: ObjectReference,
    maxContextLength: Type.Optional(Type.Integer({ minimum: 1 })),
    systemPrompt: Type.Optional(Type.String()),
    temperature: Type.Optional(Type.Number({ minimum: 0 })),
    maxTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    toolPermissions: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String(),
          rateLimit: Type.Optional(Type.String()),
          timeout: Type.Optional(Duration),
          maxConcurrency: Type.Optional(Type.Integer({ minimum: 1 })),
          requiredScopes: Type.Optional(Type.Array(Type.String())),
        }),
      ),
    ),
    guardrails: Type.Optional(Type.Array(GuardrailSpec)),
    slo: Type.Optional(
      Type.Object({
        ttft: Type.Optional(Duration),
        tokensPerSecond: Type.Optional(Type.Integer({ minimum: 0 })),
        p95Latency: Type.Optional(Duration),
        maxCostPerRequest: Type.Optional(Type.Number({ minimum: 0 })),
        availabilityPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
      }),
    ),
    memoryConfig: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});
export type AgentClass = Static<typeof AgentClass>;

export const Model = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: Type.Object({ ...ObjectMeta.properties, name: Type.String({ minLength: 1 }) }),
  spec: Type.Object({
    weightsURI: Type.String({ pattern: '^(s3|https?|file|hf|pvc)://' }),
    size: Quantity,
    quantization: Type.Optional(Type.String()),
    format: Type.Optional(Type.String()),
    architecture: Type.Optional(Type.String()),
    parameterCount: Type.Optional(Type.String()),
    shardSpec: Type.Optional(
      Type.Object({
        count: Type.Integer({ minimum: 1 }),
        strategy: Type.Enum(['tensor-parallel', 'pipeline-parallel', 'data-parallel']),
        topology: Type.Optional(Type.String()),
      }),
    ),
    cachePolicy: Type.Optional(
      Type.Object({
        priority: Type.Enum(['high', 'medium', 'low']),
        pinDuration: Type.Optional(Duration),
        preloadNodes: Type.Optional(Type.Array(Type.String())),
        evictionPolicy: Type.Optional(Type.Enum(['idle', 'low-priority', 'lru'])),
      }),
    ),
  }),
  status: Type.Optional(
    Type.Object({
      phase: Type.Optional(Type.String()),
      cachedNodes: Type.Optional(
        Type.Array(
          Type.Object({
            nodeName: Type.String(),
            status: Type.String(),
            cachedAt: Type.Optional(Type.String()),
            size: Type.Optional(Type.String()),
          }),
        ),
      ),
      loadTime: Type.Optional(Type.String()),
      lastUsed: Type.Optional(Type.String()),
      conditions: Type.Optional(Type.Array(Condition)),
    }),
  ),
});
export type Model = Static<typeof Model>;

/** Labels and annotations NeuroNetes reads on Pods and Nodes. */
export const Labels = {
  agentPool: 'neuronetes.io/agent-pool',
  gpuType: 'neuronetes.io/gpu-type',
  gpuMemory: 'neuronetes.io/gpu-memory',
  gpuCount: 'neuronetes.io/gpu-count',
  gpuTopology: 'neuronetes.io/gpu-topology',
  migCapable: 'neuronetes.io/mig-capable',
  migConfig: 'neuronetes.io/mig-config',
  instanceType: 'node.kubernetes.io/instance-type',
  capacityType: 'karpenter.sh/capacity-type',
  gkeSpot: 'cloud.google.com/gke-spot',
  costPerHour: 'neuronetes.io/cost-per-hour',
  zone: 'topology.kubernetes.io/zone',
} as const;

/** What NVIDIA GPU Feature Discovery (part of the GPU operator) and its MIG manager put on GPU nodes. */
export const GfdLabels = {
  product: 'nvidia.com/gpu.product',
  /** MiB per GPU (per MIG device under the single strategy). */
  memory: 'nvidia.com/gpu.memory',
  count: 'nvidia.com/gpu.count',
  family: 'nvidia.com/gpu.family',
  migCapable: 'nvidia.com/mig.capable',
  migStrategy: 'nvidia.com/mig.strategy',
  migConfig: 'nvidia.com/mig.config',
  /** `<cluster UUID>.<clique id>`: the GPUs' NVLink domain. */
  clique: 'nvidia.com/gpu.clique',
} as const;

/** Each cloud's mark of spot (preemptible) capacity, in the order NeuroNetes reads them. */
export const CapacityTypeLabels = {
  karpenter: 'karpenter.sh/capacity-type',
  eks: 'eks.amazonaws.com/capacityType',
  gkeSpot: 'cloud.google.com/gke-spot',
  gkePreemptible: 'cloud.google.com/gke-preemptible',
  aks: 'kubernetes.azure.com/scalesetpriority',
} as const;

export const Annotations = {
  cachedModels: 'neuronetes.io/cached-models',
} as const;

export function objectKey(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name ?? ''}`;
}
