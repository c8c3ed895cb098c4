/**
 * What an AgentClass asks of its guardrails: its `guardrails[]` list, keyed by guardrail type. A
 * class that lists guardrails selects which types run for its pools and overrides their action,
 * threshold and config; a request with no pool (or a class with no list) runs every enabled guardrail
 * as configured.
 */
import type { AgentClass, AgentPool, GuardrailSpec } from '../api/neuronetes.ts';
import type { ClusterView } from '../cluster/cluster-view.ts';

export interface GuardrailPolicy {
  /** `namespace/name` of the pool the policy came from, or null when the request named none. */
  readonly pool: string | null;
  /** By guardrail type; undefined means "every enabled guardrail, as configured". */
  readonly byType: ReadonlyMap<string, GuardrailSpec> | undefined;
}

export const OPEN_POLICY: GuardrailPolicy = { pool: null, byType: undefined };

export type PolicyLookup =
  { readonly found: true; readonly policy: GuardrailPolicy; readonly agentClass: AgentClass | undefined } | { readonly found: false; readonly ref: string };

export function policyFor(cluster: ClusterView, pool: { namespace?: string | undefined; name: string } | undefined): PolicyLookup {
  if (pool === undefined) return { found: true, policy: OPEN_POLICY, agentClass: undefined };
  const namespace = pool.namespace ?? 'default';
  const ref = `${namespace}/${pool.name}`;
  const agentPool: AgentPool | undefined = cluster.pool(namespace, pool.name);
  if (agentPool === undefined) return { found: false, ref };
  const classRef = agentPool.spec.agentClassRef;
  const agentClass = cluster.agentClass(classRef.namespace ?? namespace, classRef.name);
  const list = agentClass?.spec.guardrails;
  return {
    found: true,
    agentClass,
    policy: { pool: ref, byType: list === undefined ? undefined : new Map(list.map((g) => [g.type, g])) },
  };
}
