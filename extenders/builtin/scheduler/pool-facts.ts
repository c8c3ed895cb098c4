/**
 * What the built-in scheduler plugins need from a pod's AgentPool, parsed once per pool and picture
 * of the cluster: GPU needs with their quantities, the locality asked for, the model behind the pool
 * (pool → AgentClass → Model) and its size.
 */
import { stateKey, tryParseQuantity, typeTokens, type AgentPool, type ClusterView, type SchedulerContext } from 'neuronetes';

/** A quantity as the pool wrote it and its value; `value` is undefined when absent or malformed. */
export interface Written {
  readonly value: number | undefined;
  readonly text: string | undefined;
}

export interface GpuNeed {
  readonly count: number;
  readonly type: string | undefined;
  /** The type's lower-case words for typeMatches(); undefined when the pool names no type. */
  readonly typeTokens: readonly string[] | undefined;
  /** Per GPU, in bytes; `text` as the pool wrote it. */
  readonly memory: Written;
  /** "2×A100 80Gi", for reasons. */
  readonly label: string;
}

export interface PoolFacts {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** Undefined when the pool asks for no GPUs. */
  readonly gpu: GpuNeed | undefined;
  /** Lower-case, e.g. `2g.10gb`. */
  readonly migProfile: string | undefined;
  readonly locality: 'same-node' | 'same-socket' | 'nvlink' | 'any' | undefined;
  readonly minBandwidth: Written;
  /** The model the pool serves; `size` undefined when the Model object is unknown. */
  readonly model: { readonly name: string; readonly size: number | undefined } | undefined;
  readonly nodeSelector: readonly (readonly [string, string])[];
}

function modelOf(view: ClusterView, pool: AgentPool, namespace: string): PoolFacts['model'] {
  const classRef = pool.spec.agentClassRef;
  const agentClass = view.agentClass(classRef.namespace ?? namespace, classRef.name);
  if (agentClass === undefined) return undefined;
  const modelRef = agentClass.spec.modelRef;
  const model = view.model(modelRef.namespace ?? agentClass.metadata.namespace ?? namespace, modelRef.name);
  return { name: modelRef.name, size: model === undefined ? undefined : tryParseQuantity(model.spec.size) };
}

function computePoolFacts(view: ClusterView, pool: AgentPool, warn: (msg: string) => void): PoolFacts {
  const namespace = pool.metadata.namespace ?? 'default';
  const key = `${namespace}/${pool.metadata.name}`;
  const req = pool.spec.gpuRequirements;
  let gpu: GpuNeed | undefined;
  if (req !== undefined && req.count > 0) {
    const memory = { text: req.memory, value: tryParseQuantity(req.memory) };
    if (memory.text !== undefined && memory.value === undefined)
      warn(`AgentPool ${key}: gpuRequirements.memory ${JSON.stringify(memory.text)} is not a quantity; GPU memory is not checked`);
    gpu = {
      count: req.count,
      type: req.type,
      typeTokens: req.type === undefined ? undefined : typeTokens(req.type),
      memory,
      label: `${req.count}×${req.type ?? 'GPU'}${req.memory !== undefined ? ` ${req.memory}` : ''}`,
    };
  }
  const minText = req?.topology?.minBandwidth;
  const minBandwidth = { text: minText, value: tryParseQuantity(minText) };
  if (minText !== undefined && minBandwidth.value === undefined)
    warn(`AgentPool ${key}: gpuRequirements.topology.minBandwidth ${JSON.stringify(minText)} is not a quantity; bandwidth is not checked`);
  return {
    key,
    namespace,
    name: pool.metadata.name,
    gpu,
    migProfile: pool.spec.migProfile?.toLowerCase(),
    locality: req?.topology?.locality,
    minBandwidth,
    model: modelOf(view, pool, namespace),
    nodeSelector: Object.entries(pool.spec.scheduling?.nodeSelector ?? {}),
  };
}

const newPoolCache = (): WeakMap<AgentPool, PoolFacts> => new WeakMap();

/** The call's pool and its facts, shared by the built-ins: each asks once per node. */
const CallPool = stateKey<{ readonly pool: AgentPool; readonly facts: PoolFacts }>('builtin/pool-facts');

/** The pool's facts, computed at most once per pool and picture of the cluster. */
export function poolFacts(ctx: SchedulerContext, pool: AgentPool): PoolFacts {
  const seen = ctx.state.read(CallPool);
  if (seen?.pool === pool) return seen.facts;
  const byPool = ctx.cluster.memo('builtin/pool-facts', newPoolCache);
  let facts = byPool.get(pool);
  if (facts === undefined) {
    facts = computePoolFacts(ctx.cluster, pool, (msg) => ctx.log.warn(msg));
    byPool.set(pool, facts);
  }
  ctx.state.write(CallPool, { pool, facts });
  return facts;
}
