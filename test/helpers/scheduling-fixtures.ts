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
import type { PluginDefinition } from '../../src/plugins/definition.ts';
import { resolvePluginConfig } from '../../src/plugins/plugin-config.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import * as kit from '../../src/testing/builders.ts';
import type { ClusterInput } from '../../src/testing/builders.ts';
import type { EvictionProposal, EvictionResult, FilterResult, FilterVerdict, MaybePromise, PassPlan, SchedulerContext } from '../../src/plugins/types.ts';

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

/** A built-in scheduler plugin as tests call it: every method present and answering at once. */
export interface SyncScheduler {
  name(): string;
  preFilter(ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined): PassPlan;
  filter(ctx: SchedulerContext, pod: Pod, node: Node, pool: AgentPool | undefined): FilterResult;
  preScore(ctx: SchedulerContext, pod: Pod, pool: AgentPool | undefined): PassPlan;
  score(ctx: SchedulerContext, pod: Pod, node: Node, pool: AgentPool | undefined): number;
  /** `proposal` defaults to the victim alone, violating no PodDisruptionBudget. */
  allowEviction(ctx: SchedulerContext, pod: Pod, victim: Pod, node: Node, proposal?: EvictionProposal): EvictionResult;
}

function now<R>(answer: MaybePromise<R>, what: string): R {
  if (answer instanceof Promise) throw new Error(`${what} answered with a Promise`);
  return answer;
}

/**
 * The plugin a definition makes from `config`, as the service makes it: checked against the
 * definition's schema (a bad setting throws, naming it), defaults filled in.
 */
export function schedulerPlugin(definition: PluginDefinition<'scheduler'>, config: Record<string, unknown> = {}): SyncScheduler {
  const checked = resolvePluginConfig<Readonly<Record<string, unknown>>>(definition.config, config);
  if (!checked.ok) throw new Error(`${definition.name}: ${checked.problems.join('; ')}`);
  const registry = new PluginRegistry();
  const p = registry.instance(registry.define(definition), checked.config, pino({ level: 'silent' }));
  const missing = (method: string): never => {
    throw new Error(`${definition.name} has no ${method}()`);
  };
  return {
    name: () => p.name(),
    // An absent preFilter/preScore asks every node, as the chains do.
    preFilter: (ctx, pod, pool) => now(p.preFilter?.(ctx, pod, pool), 'preFilter()'),
    filter: (ctx, pod, node, pool) => now(p.filter === undefined ? missing('filter') : p.filter(ctx, pod, node, pool), 'filter()'),
    preScore: (ctx, pod, pool) => now(p.preScore?.(ctx, pod, pool), 'preScore()'),
    score: (ctx, pod, node, pool) => now(p.score === undefined ? missing('score') : p.score(ctx, pod, node, pool), 'score()'),
    allowEviction: (ctx, pod, victim, node, proposal = { victims: [victim], pdbViolations: 0 }) =>
      now(p.allowEviction === undefined ? missing('allowEviction') : p.allowEviction(ctx, pod, victim, node, proposal), 'allowEviction()'),
  };
}
