/**
 * Which AgentPool a pod belongs to: the `neuronetes.io/agent-pool` label (same namespace), else an
 * owner-reference chain that reaches an AgentPool.
 */
import type { OwnerReference, Pod } from '../api/kubernetes.ts';
import { GROUP, Labels, type AgentPool } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';

export type PoolResolution =
  | { readonly status: 'none' }
  | { readonly status: 'found'; readonly pool: AgentPool; readonly ref: string }
  | { readonly status: 'unknown'; readonly ref: string };

const MAX_OWNER_DEPTH = 5;

function controllerOf(refs: readonly OwnerReference[] | undefined): OwnerReference | undefined {
  return refs?.find((r) => r.controller === true) ?? refs?.[0];
}

function isAgentPoolRef(ref: OwnerReference): boolean {
  return ref.kind === 'AgentPool' && ref.apiVersion.split('/')[0] === GROUP;
}

export function resolvePool(pod: Pod, cluster: ClusterView): PoolResolution {
  const namespace = pod.metadata.namespace ?? 'default';
  const byLabel = pod.metadata.labels?.[Labels.agentPool];
  let poolName: string | undefined = byLabel;
  if (poolName === undefined) {
    let ref = controllerOf(pod.metadata.ownerReferences);
    for (let depth = 0; ref !== undefined && depth < MAX_OWNER_DEPTH; depth++) {
      if (isAgentPoolRef(ref)) {
        poolName = ref.name;
        break;
      }
      ref = controllerOf(cluster.object(ref.kind, namespace, ref.name)?.metadata.ownerReferences);
    }
  }
  if (poolName === undefined) return { status: 'none' };
  const ref = `${namespace}/${poolName}`;
  const pool = cluster.pool(namespace, poolName);
  return pool === undefined ? { status: 'unknown', ref } : { status: 'found', pool, ref };
}
