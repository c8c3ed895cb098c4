/**
 * A pool's replicas as its pods show them: the pods labelled `neuronetes.io/agent-pool: <pool>` in
 * the pool's namespace (bound or pending) that are neither finished nor being deleted, which are
 * ready, and why the pending ones are not placed (kube-scheduler's PodScheduled condition).
 */
import type { Pod } from '../api/kubernetes.ts';
import { Labels, type AgentPool } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';
import { warmPart } from './prewarm.ts';

/** Cluster sources keep pods as the API server sent them; the Pod schema names only what scheduling reads. */
interface PodStatusFields {
  metadata: { deletionTimestamp?: string | null };
  status?: { phase?: string; conditions?: readonly { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[] };
}

export interface PendingPod {
  readonly name: string;
  /** kube-scheduler's reason (`Unschedulable`, `SchedulerError`), or `NotYetScheduled`. */
  readonly reason: string;
  /** Its message (`0/3 nodes are available: …`), with the extender's per-node reasons. */
  readonly message: string;
  readonly since?: string;
}

export interface PoolPods {
  readonly replicas: number;
  readonly readyReplicas: number;
  /** Ready pods beyond the serving count, up to the pool's warm count: its warm headroom, ready. */
  readonly prewarmedReplicas: number;
  /** Pods not yet bound to a node, oldest name first. */
  readonly pending: readonly PendingPod[];
  /** The label selector of the pool's pods, for the scale subresource. */
  readonly selector: string;
}

export const poolSelector = (pool: AgentPool): string => `${Labels.agentPool}=${pool.metadata.name}`;

const conditionOf = (pod: PodStatusFields, type: string): NonNullable<NonNullable<PodStatusFields['status']>['conditions']>[number] | undefined =>
  pod.status?.conditions?.find((c) => c.type === type);

export function poolPods(view: ClusterView, pool: AgentPool): PoolPods {
  const namespace = pool.metadata.namespace ?? 'default';
  let replicas = 0;
  let readyReplicas = 0;
  const pending: PendingPod[] = [];
  for (const pod of view.podsOfPool(namespace, pool.metadata.name) as readonly (Pod & PodStatusFields)[]) {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || (pod.metadata.deletionTimestamp ?? null) !== null) continue;
    replicas++;
    if (conditionOf(pod, 'Ready')?.status === 'True') readyReplicas++;
    if ((pod.spec?.nodeName ?? '') !== '') continue;
    const scheduled = conditionOf(pod, 'PodScheduled');
    pending.push({
      name: pod.metadata.name ?? '',
      reason: scheduled?.status === 'False' ? (scheduled.reason ?? 'Unschedulable') : 'NotYetScheduled',
      message: scheduled?.status === 'False' ? (scheduled.message ?? '') : 'no scheduling attempt reported yet',
      ...(scheduled?.lastTransitionTime !== undefined ? { since: scheduled.lastTransitionTime } : {}),
    });
  }
  pending.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { replicas, readyReplicas, prewarmedReplicas: warmPart(pool, readyReplicas), pending, selector: poolSelector(pool) };
}
