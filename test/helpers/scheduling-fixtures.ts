/**
 * Builders for scheduler plugin tests: GPU nodes, pods bound to them, AgentPools, and a
 * SchedulerContext over a ClusterState holding them, with the plugin's warnings captured.
 */
import { CycleState } from '../../src/plugins/cycle-state.ts';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import type { AgentClass, AgentPool, AgentPoolSpec, Model } from '../../src/api/neuronetes.ts';
import { ClusterState } from '../../src/cluster/cluster-view.ts';
import type { FilterResult, FilterVerdict, SchedulerContext } from '../../src/plugins/types.ts';

export const NS = 'agents';

export interface NodeOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** allocatable nvidia.com/gpu; omitted when undefined. */
  gpus?: string | number;
}

export function node(name: string, o: NodeOptions = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels }, ...(o.annotations !== undefined ? { annotations: o.annotations } : {}) },
    status: { allocatable: { cpu: '96', ...(o.gpus !== undefined ? { 'nvidia.com/gpu': o.gpus } : {}) } },
  };
}

/** An A100 80Gi NVLink node with 8 GPUs, changed by `labels` (a value of '' drops the label). */
export function a100(name: string, o: NodeOptions = {}): Node {
  const labels = Object.entries({
    'neuronetes.io/gpu-type': 'A100',
    'neuronetes.io/gpu-memory': '80Gi',
    'neuronetes.io/gpu-topology': 'nvlink',
    'topology.kubernetes.io/zone': 'zone-a',
    ...o.labels,
  }).filter(([, v]) => v !== '');
  return node(name, { ...o, labels: Object.fromEntries(labels), gpus: o.gpus ?? 8 });
}

export interface PodOptions {
  node?: string;
  namespace?: string;
  gpus?: number;
  /** e.g. {'2g.10gb': 1} → nvidia.com/mig-2g.10gb */
  mig?: Record<string, number>;
  phase?: string;
  pool?: string;
  labels?: Record<string, string>;
  /** Put the GPU request in limits only (requests default to limits for extended resources). */
  limitsOnly?: boolean;
  initGpus?: number;
}

export function pod(name: string, o: PodOptions = {}): Pod {
  const resources: Record<string, string> = {};
  if (o.gpus !== undefined) resources['nvidia.com/gpu'] = String(o.gpus);
  for (const [profile, n] of Object.entries(o.mig ?? {})) resources[`nvidia.com/mig-${profile}`] = String(n);
  const labels = { ...(o.pool !== undefined ? { 'neuronetes.io/agent-pool': o.pool } : {}), ...o.labels };
  return {
    metadata: { name, namespace: o.namespace ?? NS, labels },
    spec: {
      ...(o.node !== undefined ? { nodeName: o.node } : {}),
      containers: [{ name: 'agent', resources: o.limitsOnly === true ? { limits: resources } : { requests: resources } }],
      ...(o.initGpus !== undefined ? { initContainers: [{ name: 'init', resources: { requests: { 'nvidia.com/gpu': String(o.initGpus) } } }] } : {}),
    },
    status: { phase: o.phase ?? (o.node !== undefined ? 'Running' : 'Pending') },
  };
}

export function agentPool(name: string, spec: Partial<AgentPoolSpec> = {}, namespace = NS): AgentPool {
  return { metadata: { name, namespace }, spec: { agentClassRef: { name }, minReplicas: 1, maxReplicas: 4, ...spec } };
}

export function agentClass(name: string, model: string, namespace = NS): AgentClass {
  return { metadata: { name, namespace }, spec: { modelRef: { name: model } } };
}

export function model(name: string, size: string, namespace = NS): Model {
  return { metadata: { name, namespace }, spec: { weightsURI: `hf://org/${name}`, size } };
}

export interface ClusterInput {
  nodes?: Node[];
  pods?: Pod[];
  pools?: AgentPool[];
  classes?: AgentClass[];
  models?: Model[];
}

export interface TestContext {
  ctx: SchedulerContext;
  cluster: ClusterState;
  /** Messages the plugin logged at warn or above. */
  warnings: string[];
}

let version = 0;

export function schedulerContext(input: ClusterInput = {}, config: Record<string, unknown> = {}): TestContext {
  const cluster = new ClusterState(
    { nodes: input.nodes ?? [], pods: input.pods ?? [], agentPools: input.pools ?? [], agentClasses: input.classes ?? [], models: input.models ?? [] },
    ++version,
  );
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') warnings.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  });
  const log = pino({ level: 'warn' }, sink);
  return { ctx: { signal: new AbortController().signal, log, config, cluster, state: new CycleState() }, cluster, warnings };
}

/** A filter answer as a verdict, so tables can compare one shape. */
export function verdict(result: FilterResult): FilterVerdict {
  return typeof result === 'boolean' ? { passed: result } : result;
}
