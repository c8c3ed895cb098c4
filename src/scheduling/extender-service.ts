/**
 * The four kube-scheduler extender verbs: resolve the pod's pool and the candidate nodes, run the
 * filter or score chain, answer in the wire format, and leave a trace of why.
 */
import { CycleState } from '../plugins/cycle-state.ts';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type {
  ExtenderArgs,
  ExtenderBindingArgs,
  ExtenderBindingResult,
  ExtenderPreemptionArgs,
  ExtenderPreemptionResult,
  HostPriorityList,
} from '../api/extender.ts';
import { podKey, type Node, type Pod } from '../api/kubernetes.ts';
import { BindError } from '../cluster/cluster-source.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import type { ChainServiceDeps } from '../plugins/chain-service-deps.ts';
import { PluginFailure, PluginPass, RequestBudget } from '../plugins/plugin-pass.ts';
import type { EvictionProposal, EvictionVerdict, SchedulerContext } from '../plugins/types.ts';
import {
  MAX_REASON_CHARS,
  runFilterChain,
  summarizePass,
  type NodeRejection,
  type PluginPassSummary,
  type Rejection,
  type SchedulingInput,
} from './filter-chain.ts';
import { FilterReply, NOT_REJECTED, type FilterVerdicts } from './filter-reply.ts';
import { NodeColumns } from './node-columns.ts';
import { resolvePool, UnknownPoolNotices, type PoolResolution } from './pool-resolver.ts';
import { bestHundredths, NO_SCORE, runScoreChain, toWireScores, type ScoreOutcome, type WireScoreMapping } from './score-chain.ts';
import { jsonBytes, TRACE_ENTRY_MAX_BYTES } from '../observability/trace-buffer.ts';
import { clip } from '../util/clip.ts';
import { NODE_JSON_BYTES, NodeAllowance, TRACE_NAME_CHARS, TRACE_TEXT_CHARS, type NodeTrace, type SchedulerTrace } from './scheduler-trace.ts';

export type ExtenderServiceDeps = ChainServiceDeps<SchedulerTrace>;

/** Raised for ExtenderArgs that name no nodes at all: a client mistake, answered with HTTP 400. */
export class NoCandidatesError extends Error {
  constructor() {
    super('ExtenderArgs must carry Nodes (nodeCacheCapable: false) or NodeNames (nodeCacheCapable: true)');
    this.name = 'NoCandidatesError';
  }
}

interface Candidates {
  mode: 'names' | 'nodes';
  nodes: Node[];
  /** The nodes' names, in the same order. */
  names: string[];
  /** Names the node cache does not know (names mode only). */
  unknown: string[];
}

function candidatesOf(args: ExtenderArgs, cluster: ClusterView): Candidates {
  // Names are taken from the cache's own objects where it has them: the trace ring keeps a call's
  // names, and the request's copies would be thousands of fresh strings per call kept alive into
  // the old generation.
  if (args.Nodes !== undefined && args.Nodes !== null) {
    const nodes = args.Nodes.items;
    return { mode: 'nodes', nodes, names: nodes.map((n) => cluster.node(n.metadata.name)?.metadata.name ?? n.metadata.name), unknown: [] };
  }
  if (args.NodeNames === undefined || args.NodeNames === null) throw new NoCandidatesError();
  const { nodes, unknown } = cluster.nodesNamed(args.NodeNames);
  return { mode: 'names', nodes, names: nodes.map((n) => n.metadata.name), unknown };
}

const unknownNodeReason = (name: string): string => `node ${name} is not in the extender's node cache yet; it will be considered once the cache has it`;

const MAX_SPARE_COLUMNS = 2;

/** A filter call's verdicts, as the reply reads them and the trace keeps them. */
interface TracedVerdicts extends FilterVerdicts<Rejection> {
  readonly shadow: ReadonlyMap<number, readonly NodeRejection[]>;
}
const NO_VERDICTS: TracedVerdicts = { names: [], rejectedAs: new Int32Array(0), rejections: [], shadow: new Map() };

/**
 * What a trace entry keeps of a call's nodes: the candidates' names and verdicts or scores, copied
 * into NodeColumns the ring reuses, and a reader that turns the columns into per-node traces when
 * /debug asks. Only the first `count` candidates (and the unknown names the reader holds) fit the
 * entry's byte bound; `omitted` counts the call's nodes left out.
 */
interface NodeRecord {
  readonly names: readonly string[];
  readonly count: number;
  readonly omitted: number;
  /** What the kept nodes show on /debug, in bytes of JSON. */
  readonly bytes: number;
  readonly verdicts?: Int32Array;
  readonly scores?: ScoreOutcome;
  readonly read: (columns: NodeColumns) => Record<string, NodeTrace>;
}

/** Per-node traces built with the call (bind, preempt), already within the entry's bound. */
interface EagerNodes {
  readonly nodes: Record<string, NodeTrace>;
  readonly omitted: number;
  readonly bytes: number;
}
const NO_NODES: EagerNodes = { nodes: {}, omitted: 0, bytes: 0 };

/** Room in an entry for its nodes; its other fields are clipped to well inside the rest. */
const NODE_ALLOWANCE = TRACE_ENTRY_MAX_BYTES - 64 * 1024;
const UNKNOWN_NODE_BYTES = NODE_JSON_BYTES + 'node-cache'.length + unknownNodeReason('').length;

const traceName = (name: string): string => clip(name, TRACE_NAME_CHARS);
const nameBytes = (name: string): number => Math.min(name.length, TRACE_NAME_CHARS + 32);

/** The unknown names that still fit, cut for the trace. */
function keepUnknown(allowance: NodeAllowance, unknown: readonly string[]): string[] {
  // The name shows twice: as the key, and in the reason.
  return unknown
    .slice(
      0,
      allowance.fit(unknown.length, (i) => 2 * nameBytes(unknown[i] as string) + UNKNOWN_NODE_BYTES),
    )
    .map(traceName);
}

/** The part of a filter call the trace keeps: as many candidates as fit, then unknown names. */
function filterRecord({ names, rejectedAs, rejections, shadow }: TracedVerdicts, unknown: readonly string[]): NodeRecord {
  const allowance = new NodeAllowance(NODE_ALLOWANCE);
  const rejectionBytes = rejections.map((r) => NODE_JSON_BYTES + r.plugin.length + jsonBytes(r.reason) + (r.unresolvable ? 20 : 0));
  const shadowBytes = (i: number): number => shadow.get(i)?.reduce((sum, r) => sum + NODE_JSON_BYTES + r.plugin.length + jsonBytes(r.reason), 0) ?? 0;
  const count = allowance.fit(
    names.length,
    (i) => nameBytes(names[i] as string) + (rejectionBytes[rejectedAs[i] as number] ?? NODE_JSON_BYTES) + (shadow.size > 0 ? shadowBytes(i) : 0),
  );
  const unknownKept = keepUnknown(allowance, unknown);
  // Rejections are shared by the nodes they reject; only when a plugin gives nearly every node a
  // reason of its own can they outgrow the bound, and then the trace keeps those its nodes use.
  let traced: readonly Rejection[] = rejections;
  let verdicts = rejectedAs;
  if (rejectionBytes.reduce((a, b) => a + b, 0) > NODE_ALLOWANCE) {
    const remap = new Int32Array(rejections.length).fill(NOT_REJECTED);
    const used: Rejection[] = [];
    verdicts = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const v = rejectedAs[i] as number;
      if (v !== NOT_REJECTED && remap[v] === NOT_REJECTED) remap[v] = used.push(rejections[v] as Rejection) - 1;
      verdicts[i] = v === NOT_REJECTED ? v : (remap[v] as number);
    }
    traced = used;
  }
  const keptShadow = count === names.length ? shadow : new Map([...shadow].filter(([i]) => i < count));
  return { names, count, omitted: allowance.omitted, bytes: NODE_ALLOWANCE - allowance.left, verdicts, read: readFilter(unknownKept, traced, keptShadow) };
}

/** The part of a prioritize call the trace keeps: as many scored nodes as fit, then unknown names. */
function scoreRecord(names: readonly string[], outcome: ScoreOutcome, unknown: readonly string[], mapping: WireScoreMapping): NodeRecord {
  const allowance = new NodeAllowance(NODE_ALLOWANCE);
  const perNode = outcome.plugins.reduce((sum, p) => sum + p.length + 12, 2 * NODE_JSON_BYTES);
  const count = allowance.fit(names.length, (i) => nameBytes(names[i] as string) + perNode);
  const unknownKept = keepUnknown(allowance, unknown);
  return {
    names,
    count,
    omitted: allowance.omitted,
    bytes: NODE_ALLOWANCE - allowance.left,
    scores: outcome,
    read: readScores(outcome.plugins, unknownKept, mapping, bestHundredths(outcome.totals)),
  };
}

/*
 * These factories sit at module level so that a trace holds only what it names: a closure made
 * inside a verb would share that call's scope, and so keep its whole request (thousands of full Node
 * objects in full-node mode) and its per-call arrays alive in the ring.
 */
const always = (nodes: Record<string, NodeTrace>) => (): Record<string, NodeTrace> => nodes;

const readFilter =
  (unknown: readonly string[], rejections: readonly Rejection[], shadow: ReadonlyMap<number, readonly NodeRejection[]>) =>
  (columns: NodeColumns): Record<string, NodeTrace> =>
    filterNodeTrace(columns, unknown, rejections, shadow);

// `best` is the whole call's: a trace that kept only some nodes still shows the wire scores sent.
const readScores =
  (plugins: readonly string[], unknown: readonly string[], mapping: WireScoreMapping, best: number) =>
  (columns: NodeColumns): Record<string, NodeTrace> =>
    scoreNodeTrace(columns, plugins, unknown, mapping, best);

/** Columns pass to a newer entry once the ring forgets theirs; a reader still holding the old one gets none. */
const columnsOf = (columns: NodeColumns, owner: number, read: NodeRecord['read']) => (): Record<string, NodeTrace> =>
  columns.owner === owner ? read(columns) : {};

/** The per-node story of a filter call: who kept, who rejected and why. */
function filterNodeTrace(
  { names, count, verdicts }: NodeColumns,
  unknown: readonly string[],
  rejections: readonly Rejection[],
  shadow: ReadonlyMap<number, readonly NodeRejection[]>,
): Record<string, NodeTrace> {
  const nodes: Record<string, NodeTrace> = {};
  for (const name of unknown) nodes[name] = { kept: false, rejectedBy: 'node-cache', reason: unknownNodeReason(name) };
  for (let i = 0; i < count; i++) {
    const r = rejections[verdicts[i] as number];
    nodes[names[i] as string] =
      r === undefined ? { kept: true } : { kept: false, rejectedBy: r.plugin, reason: r.reason, ...(r.unresolvable ? { unresolvable: true } : {}) };
  }
  for (const [i, list] of shadow) (nodes[names[i] as string] ??= {}).shadow = list.map((r) => ({ plugin: r.plugin, reason: r.reason }));
  return nodes;
}

/** The per-node scores of a prioritize call: the 0..100 detail behind each wire score, mapped again as the reply was. */
function scoreNodeTrace(
  { names, count, scores, totals }: NodeColumns,
  plugins: readonly string[],
  unknown: readonly string[],
  mapping: WireScoreMapping,
  best: number,
): Record<string, NodeTrace> {
  const nodes: Record<string, NodeTrace> = {};
  const wire = toWireScores(totals.subarray(0, count), mapping, best);
  for (let i = 0; i < count; i++) {
    const score = totals[i] as number;
    const byPlugin: Record<string, number | null> = {};
    plugins.forEach((p, j) => {
      const value = scores[j * count + i] as number;
      byPlugin[p] = value === NO_SCORE ? null : value / 100;
    });
    nodes[names[i] as string] = { score: Math.round(score * 100) / 100, wireScore: wire[i] as number, scores: byPlugin };
  }
  for (const name of unknown) nodes[name] = { score: 0, wireScore: 0, reason: unknownNodeReason(name) };
  return nodes;
}

/**
 * What bind checks before the cluster source binds: the pod is named by its UID, which only
 * kube-scheduler (or whoever can read the pod) knows, so the source's UID precondition (the API
 * server's, for the Kubernetes source) makes it the pod kube-scheduler asked about; the node must be
 * one the cluster has, since the API server binds to any name.
 */
function refuseBinding(args: ExtenderBindingArgs, cluster: ClusterView): void {
  if (args.PodUID === '') throw new BindError('PodUID is empty: kube-scheduler always names the pod it binds by UID');
  if (cluster.node(args.Node) === undefined) throw new BindError(`node ${JSON.stringify(args.Node)} does not exist`);
}

/** One extender call as its trace entry tells it. */
interface TracedCall {
  readonly verb: SchedulerTrace['verb'];
  readonly pod: Pod;
  /** Absent for bind, which names no pool. */
  readonly resolution?: PoolResolution;
  readonly mode: SchedulerTrace['mode'];
  /** performance.now() when the call began. */
  readonly started: number;
  readonly summary: string;
  readonly plugins: PluginPassSummary[];
  readonly nodes: NodeRecord | EagerNodes;
  readonly error?: string;
}

/** A node's proposed victims, and the PodDisruptionBudget violations their eviction costs. */
interface Proposal {
  readonly victims: Pod[];
  readonly pdb: number;
}

interface Veto {
  readonly uid: string;
  readonly plugin: string;
  /** The plugin's reason, when its answer gave one. */
  readonly reason?: string;
}

/** An allowEviction() answer as a verdict, or undefined when it has the wrong shape (checked at run time: plugins may be plain JavaScript). */
function evictionVerdict(value: unknown): EvictionVerdict | undefined {
  if (typeof value === 'boolean') return { allowed: value };
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const reason = v['reason'];
  if (typeof v['allowed'] !== 'boolean' || (reason !== undefined && typeof reason !== 'string')) return undefined;
  return { allowed: v['allowed'], ...(reason !== undefined ? { reason: clip(reason, MAX_REASON_CHARS) } : {}) };
}

/** kube-scheduler's proposed victims by node: whole Pods, or UIDs looked up among the node's pods. */
function proposalsOf(args: ExtenderPreemptionArgs, cluster: ClusterView): Map<string, Proposal> {
  const proposals = new Map<string, Proposal>();
  if (args.NodeNameToVictims != null) {
    for (const [node, v] of Object.entries(args.NodeNameToVictims)) proposals.set(node, { victims: v.Pods ?? [], pdb: v.NumPDBViolations ?? 0 });
  } else if (args.NodeNameToMetaVictims != null) {
    for (const [node, v] of Object.entries(args.NodeNameToMetaVictims)) {
      const onNode = cluster.podsOnNode(node);
      const victims = (v.Pods ?? []).map((m) => onNode.find((p) => p.metadata.uid === m.UID) ?? { metadata: { uid: m.UID } });
      proposals.set(node, { victims, pdb: v.NumPDBViolations ?? 0 });
    }
  }
  return proposals;
}

const sparedReason = (victims: number): string =>
  `a victim was vetoed: kube-scheduler proposes only the victims the pod needs, so the other ${victims - 1} alone would not make room; none is evicted here`;

/**
 * The reply (the nodes none of whose victims is vetoed) and the trace's nodes (each node's kept and
 * vetoed victims, as many as fit). A node with a vetoed victim is dropped whole: kube-scheduler
 * evicts the victims it is given without checking the pod then fits, and it proposed only those
 * it could not spare.
 */
function keepVictims(proposals: ReadonlyMap<string, Proposal>, vetoed: ReadonlyMap<string, Veto>): { result: ExtenderPreemptionResult; nodes: EagerNodes } {
  const result: ExtenderPreemptionResult = { NodeNameToMetaVictims: {} };
  const nodes: Record<string, NodeTrace> = {};
  const allowance = new NodeAllowance(NODE_ALLOWANCE);
  for (const [nodeName, proposal] of proposals) {
    const veto = vetoed.get(nodeName);
    const kept = veto !== undefined ? [] : proposal.victims.map((p) => p.metadata.uid ?? '').filter((uid) => uid !== '');
    const reason = veto !== undefined && proposal.victims.length > 1 ? sparedReason(proposal.victims.length) : undefined;
    const vetoBytes =
      veto === undefined ? 0 : nameBytes(veto.uid) + veto.plugin.length + (veto.reason === undefined ? 0 : jsonBytes(veto.reason)) + NODE_JSON_BYTES;
    const bytes = kept.reduce((sum, uid) => sum + nameBytes(uid) + 4, nameBytes(nodeName) + 2 * NODE_JSON_BYTES + vetoBytes + (reason?.length ?? 0));
    if (allowance.take(bytes)) {
      const vetoes =
        veto === undefined ? [] : [{ uid: traceName(veto.uid), plugin: veto.plugin, ...(veto.reason !== undefined ? { reason: veto.reason } : {}) }];
      nodes[traceName(nodeName)] = {
        kept: kept.length > 0,
        ...(reason !== undefined ? { reason } : {}),
        victims: { kept: kept.map(traceName), vetoed: vetoes },
      };
    }
    if (kept.length > 0) result.NodeNameToMetaVictims[nodeName] = { Pods: kept.map((UID) => ({ UID })), NumPDBViolations: proposal.pdb };
  }
  return { result, nodes: { nodes, omitted: allowance.omitted, bytes: NODE_ALLOWANCE - allowance.left } };
}

export class ExtenderService {
  readonly #deps: ExtenderServiceDeps;
  /** Each traced entry's columns, handed on when the ring forgets the entry. */
  readonly #columns = new WeakMap<SchedulerTrace, NodeColumns>();
  /**
   * Spare columns by verb: a filter's hold every candidate and a verdict each, a prioritize's only
   * the survivors with their scores, so each kind keeps to its own sizes instead of every set
   * growing to the larger of both.
   */
  readonly #spareColumns: Record<SchedulerTrace['verb'], NodeColumns[]> = { filter: [], prioritize: [], bind: [], preempt: [] };

  readonly #unknownPools = new UnknownPoolNotices();

  constructor(deps: ExtenderServiceDeps) {
    this.#deps = deps;
  }

  #begin(pod: Pod, log: Logger): { input: SchedulingInput; resolution: PoolResolution } {
    const cluster = this.#deps.cluster.view();
    const resolution = resolvePool(pod, cluster);
    if (resolution.status === 'unknown') {
      this.#deps.runtime.metrics.schedulerUnknownPool.inc();
      const suppressed = this.#unknownPools.take(resolution.ref);
      if (suppressed !== undefined) {
        const every = `said once per pool every ${this.#unknownPools.intervalMs / 60_000} minutes`;
        log.warn(
          { pod: podKey(pod), pool: resolution.ref, suppressed },
          `pod names an AgentPool the extender does not know (${every}; ${suppressed} calls since the last)`,
        );
      }
    }
    return { input: { pod, pool: resolution.status === 'found' ? resolution.pool : undefined, cluster }, resolution };
  }

  #trace(call: TracedCall): void {
    const trace = this.#deps.trace;
    if (trace.capacity === 0) return;
    const { verb, pod, resolution, nodes, error } = call;
    // The pod's and pool's names and the messages come from the request: cut to a bound.
    const key = clip(podKey(pod), TRACE_TEXT_CHARS);
    const entry: Omit<SchedulerTrace, 'nodes'> = {
      id: trace.nextId(),
      time: new Date().toISOString(),
      subject: key,
      verb,
      pod: key,
      pool: resolution !== undefined && resolution.status !== 'none' ? clip(resolution.ref, TRACE_TEXT_CHARS) : null,
      poolStatus: resolution?.status ?? 'none',
      mode: call.mode,
      durationMs: Math.round((performance.now() - call.started) * 1000) / 1000,
      summary: clip(call.summary, TRACE_TEXT_CHARS),
      ...(error !== undefined ? { error: clip(error, TRACE_TEXT_CHARS) } : {}),
      plugins: call.plugins,
      ...(nodes.omitted > 0 ? { nodesOmitted: nodes.omitted } : {}),
    };
    this.#keep(entry, nodes, jsonBytes(entry) + nodes.bytes);
  }

  /** Puts an entry in the ring with its nodes, read when /debug asks; the columns of entries it pushes out are reused. */
  #keep(entry: Omit<SchedulerTrace, 'nodes'>, nodes: NodeRecord | EagerNodes, bytes: number): void {
    let columns: NodeColumns | undefined;
    let read: () => Record<string, NodeTrace>;
    if ('nodes' in nodes) read = always(nodes.nodes);
    else {
      columns = (this.#spareColumns[entry.verb].pop() ?? new NodeColumns()).claim(entry.id, nodes.names, nodes.count, TRACE_NAME_CHARS);
      if (nodes.verdicts !== undefined) columns.keepVerdicts(nodes.verdicts);
      if (nodes.scores !== undefined) columns.keepScores(nodes.scores.scores, nodes.scores.totals, nodes.names.length);
      read = columnsOf(columns, entry.id, nodes.read);
    }
    // Built when /debug reads it, not per call: a call may carry thousands of nodes.
    const traced = Object.defineProperty(entry, 'nodes', { get: read, enumerable: true }) as SchedulerTrace;
    if (columns !== undefined) this.#columns.set(traced, columns);
    for (const forgotten of this.#deps.trace.push(traced, bytes)) {
      const reusable = this.#columns.get(forgotten);
      // Filters and prioritizes are forgotten in about the order they come, so a spare or two per
      // verb serves; more would only pile up when the mix drifts.
      const spares = this.#spareColumns[forgotten.verb];
      if (reusable !== undefined && spares.length < MAX_SPARE_COLUMNS) spares.push(reusable.release());
      else reusable?.release();
    }
  }

  async filter(args: ExtenderArgs, log: Logger): Promise<FilterReply> {
    const started = performance.now();
    const { input, resolution } = this.#begin(args.Pod, log);
    const candidates = candidatesOf(args, input.cluster);
    const { names, unknown } = candidates;
    const reply = (kept: readonly Node[], verdicts: FilterVerdicts, error?: string): FilterReply =>
      new FilterReply({ args, kept, verdicts, unknown, unknownReason: unknownNodeReason, ...(error !== undefined ? { error } : {}) });
    const trace = (summary: string, plugins: PluginPassSummary[], verdicts: TracedVerdicts, error?: string): void =>
      this.#trace({
        verb: 'filter',
        pod: args.Pod,
        resolution,
        mode: candidates.mode,
        started,
        summary,
        plugins,
        nodes: filterRecord(verdicts, unknown),
        ...(error !== undefined ? { error } : {}),
      });

    if (resolution.status === 'unknown' && this.#deps.config().scheduler.unknownPool === 'reject') {
      const reason = `pod's AgentPool ${resolution.ref} is unknown to the NeuroNetes extender`;
      const rejection: Rejection = { plugin: 'pool-resolver', reason, unresolvable: true, wire: reason, count: names.length };
      const verdicts = { ...NO_VERDICTS, names, rejectedAs: new Int32Array(names.length), rejections: [rejection] };
      trace(`rejected all ${names.length} nodes: ${reason}`, [], verdicts);
      return reply([], verdicts);
    }

    const plugins = this.#deps.plugins().enabled('scheduler');
    const budget = new RequestBudget(this.#deps.config().scheduler.requestBudgetMs);
    let outcome;
    try {
      outcome = await runFilterChain(this.#deps.runtime, plugins, input, candidates.nodes, budget);
    } catch (e: unknown) {
      if (!(e instanceof PluginFailure)) throw e;
      trace(`failed: ${e.message}`, [], NO_VERDICTS, e.message);
      return reply([], NO_VERDICTS, e.message);
    }
    const { kept, rejectedAs, rejections } = outcome;
    const verdicts: TracedVerdicts = { names, rejectedAs, rejections, shadow: outcome.shadowRejected };

    const byPlugin = new Map<string, number>();
    for (const r of rejections) byPlugin.set(r.plugin, (byPlugin.get(r.plugin) ?? 0) + r.count);
    const total = names.length + unknown.length;
    const why = [...byPlugin].map(([p, c]) => `${p}: ${c}`);
    if (unknown.length > 0) why.push(`not in cache: ${unknown.length}`);
    const summary = `kept ${kept.length} of ${total} nodes${why.length > 0 ? `; rejected ${why.join(', ')}` : ''}`;
    trace(summary, outcome.passes, verdicts);
    log.debug({ pod: podKey(args.Pod), kept: kept.length, total }, 'filter');
    return reply(kept, verdicts);
  }

  /** Throws PluginFailure under `failurePolicy: Fail`; the route answers 500 (the scheduler ignores it). */
  async prioritize(args: ExtenderArgs, log: Logger): Promise<HostPriorityList> {
    const started = performance.now();
    const { input, resolution } = this.#begin(args.Pod, log);
    const candidates = candidatesOf(args, input.cluster);
    const plugins = this.#deps.plugins().enabled('scheduler');
    const budget = new RequestBudget(this.#deps.config().scheduler.requestBudgetMs);
    let outcome;
    try {
      outcome = await runScoreChain(this.#deps.runtime, plugins, input, candidates.nodes, budget);
    } catch (e: unknown) {
      if (e instanceof PluginFailure)
        this.#trace({
          verb: 'prioritize',
          pod: args.Pod,
          resolution,
          mode: candidates.mode,
          started,
          summary: `failed: ${e.message}`,
          plugins: [],
          nodes: NO_NODES,
          error: e.message,
        });
      throw e;
    }
    const { names } = candidates;
    const { totals } = outcome;
    const mapping = this.#deps.config().scheduler.wireScores;
    const wire = toWireScores(totals, mapping);
    const list: HostPriorityList = [];
    let best = -1;
    for (let i = 0; i < names.length; i++) {
      list.push({ Host: names[i] as string, Score: wire[i] as number });
      if (best < 0 || (totals[i] as number) > (totals[best] as number)) best = i;
    }
    for (const name of candidates.unknown) list.push({ Host: name, Score: 0 });
    const summary =
      best < 0
        ? list.length === 0
          ? 'no nodes to score'
          : `scored ${list.length} nodes, none in the node cache`
        : `scored ${list.length} nodes; best ${names[best] as string} (total ${Math.round((totals[best] as number) * 100) / 100} → ${wire[best] as number}/10, ${mapping})`;
    this.#trace({
      verb: 'prioritize',
      pod: args.Pod,
      resolution,
      mode: candidates.mode,
      started,
      summary,
      plugins: outcome.passes,
      nodes: scoreRecord(names, outcome, candidates.unknown, mapping),
    });
    return list;
  }

  async bind(args: ExtenderBindingArgs, log: Logger): Promise<ExtenderBindingResult> {
    const started = performance.now();
    const pod: Pod = { metadata: { name: args.PodName, namespace: args.PodNamespace, uid: args.PodUID } };
    let error = '';
    try {
      refuseBinding(args, this.#deps.cluster.view());
      await this.#deps.cluster.bind({ podNamespace: args.PodNamespace, podName: args.PodName, podUid: args.PodUID, node: args.Node });
    } catch (e: unknown) {
      error = `binding ${args.PodNamespace}/${args.PodName} to ${args.Node} failed: ${(e as Error).message}`;
      log.warn({ err: e, pod: podKey(pod), node: args.Node }, 'bind failed');
    }
    const nodes: EagerNodes = { nodes: { [traceName(args.Node)]: { kept: error === '' } }, omitted: 0, bytes: nameBytes(args.Node) + NODE_JSON_BYTES };
    this.#trace({
      verb: 'bind',
      pod,
      mode: null,
      started,
      summary: error === '' ? `bound to ${args.Node}` : error,
      plugins: [],
      nodes,
      ...(error !== '' ? { error } : {}),
    });
    return { Error: error };
  }

  /**
   * Returns the nodes kube-scheduler proposed none of whose victims a plugin's allowEviction() vetoes,
   * with their victims (see keepVictims). A plugin that fails to answer for a victim vetoes it,
   * unless the plugin is optional.
   */
  async preempt(args: ExtenderPreemptionArgs, log: Logger): Promise<ExtenderPreemptionResult> {
    const started = performance.now();
    const { input, resolution } = this.#begin(args.Pod, log);
    const proposals = proposalsOf(args, input.cluster);
    const { vetoed, passes } = await this.#vetoes(args.Pod, input.cluster, proposals);
    const { result, nodes } = keepVictims(proposals, vetoed);
    const summary = `${Object.keys(result.NodeNameToMetaVictims).length} of ${proposals.size} nodes keep victims`;
    this.#trace({ verb: 'preempt', pod: args.Pod, resolution, mode: null, started, summary, plugins: passes, nodes });
    return result;
  }

  /** Asks every allowEviction() plugin about the proposed victims, up to a node's first enforced veto; returns that veto by node. */
  async #vetoes(pod: Pod, cluster: ClusterView, proposals: ReadonlyMap<string, Proposal>): Promise<{ vetoed: Map<string, Veto>; passes: PluginPassSummary[] }> {
    const vetoers = this.#deps
      .plugins()
      .enabled('scheduler')
      .filter((p) => p.plugin.allowEviction !== undefined);
    const budget = new RequestBudget(this.#deps.config().scheduler.requestBudgetMs);
    const vetoed = new Map<string, Veto>();
    const passes: PluginPassSummary[] = [];
    const state = new CycleState();
    for (const [j, active] of vetoers.entries()) {
      const pass = new PluginPass<'scheduler', SchedulerContext>(this.#deps.runtime, active, 'preempt', budget.shareOf(vetoers, j), { cluster, state });
      const allow = active.plugin.allowEviction as NonNullable<typeof active.plugin.allowEviction>;
      let count = 0;
      try {
        for (const [nodeName, proposal] of proposals) {
          // One veto drops the node: its other victims need no asking.
          if (vetoed.has(nodeName)) continue;
          const node = cluster.node(nodeName) ?? { metadata: { name: nodeName } };
          const asked: EvictionProposal = { victims: proposal.victims, pdbViolations: proposal.pdb };
          for (const victim of proposal.victims) {
            const uid = victim.metadata.uid ?? '';
            const answer = await pass.call((ctx) => allow.call(active.plugin, ctx, pod, victim, node, asked));
            const verdict = answer.ok ? evictionVerdict(answer.value) : undefined;
            const outcome =
              answer.ok && verdict === undefined ? pass.malformed('allowEviction()', answer.value, 'a boolean or {allowed: boolean, reason?: string}') : answer;
            pass.check(outcome);
            const vetoes = verdict !== undefined ? !verdict.allowed : !active.settings.optional;
            if (vetoes && pass.enforcing) {
              count++;
              vetoed.set(nodeName, { uid, plugin: active.name, ...(verdict?.reason !== undefined ? { reason: verdict.reason } : {}) });
              break;
            }
          }
        }
      } finally {
        passes.push(summarizePass(pass, pass.end(), count));
      }
    }
    return { vetoed, passes };
  }
}
