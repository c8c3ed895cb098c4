/**
 * Builders for scheduler plugin tests: GPU nodes, pods bound to them, AgentPools, and a
 * SchedulerContext over a ClusterState holding them, with the plugin's warnings captured.
 */
import { CycleState } from '../../src/plugins/cycle-state.ts';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Node, Pod } from '../../src/api/kubernetes.ts';
import type { AgentClass, AgentPool, AgentPoolSpec, Model } from '../../src/api/neuronetes.ts';
import type { ClusterState } from '../../src/cluster/cluster-view.ts';
import * as kit from '../../src/testing/builders.ts';
import type { ClusterInput } from '../../src/testing/builders.ts';
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

/** The kit's pod options, with `node` for the node it is bound to. */
export type PodOptions = Omit<kit.PodOptions, 'name' | 'nodeName'> & { node?: string };

export function pod(name: string, o: PodOptions = {}): Pod {
  const { node, namespace, ...rest } = o;
  return kit.pod({ name, namespace: namespace ?? NS, ...rest, ...(node !== undefined ? { nodeName: node } : {}) });
}

export function agentPool(name: string, spec: Partial<AgentPoolSpec> = {}, namespace = NS): AgentPool {
  return kit.agentPool({ name, namespace, spec });
}

export function agentClass(name: string, model: string, namespace = NS): AgentClass {
  return kit.agentClass({ name, namespace, model });
}

export function model(name: string, size: string, namespace = NS): Model {
  return kit.model({ name, namespace, size });
}

export type { ClusterInput } from '../../src/testing/builders.ts';

export interface TestContext {
  ctx: SchedulerContext;
  cluster: ClusterState;
  /** Messages the plugin logged at warn or above. */
  warnings: string[];
}

export function schedulerContext(input: ClusterInput = {}, config: Record<string, unknown> = {}): TestContext {
  const cluster = kit.clusterState(input);
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
