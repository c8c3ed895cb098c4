/**
 * Which AgentPool a KEDA ScaledObject scales, and the one metric this scaler serves for it. The
 * trigger's metadata names the pool (`pool: <namespace>/<name>`, or `namespace` and/or `name`);
 * what it leaves out comes from the ScaledObject's own namespace and name.
 */
import type { PoolRef } from '../autoscaling/autoscaler-state.ts';
import type { ScaledObjectRef } from './external-scaler-proto.ts';

/** A Kubernetes object name (RFC 1123 subdomain); namespaces are the stricter label form. */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export class ScalerMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScalerMetadataError';
  }
}

function split(pool: string): PoolRef {
  const parts = pool.split('/');
  if (parts.length !== 2) throw new ScalerMetadataError(`metadata pool must be "<namespace>/<name>", not ${JSON.stringify(pool)}`);
  return { namespace: parts[0] ?? '', name: parts[1] ?? '' };
}

export function poolOf(ref: ScaledObjectRef): PoolRef {
  const meta = ref.scalerMetadata;
  const { pool, namespace, name } = meta;
  if (pool !== undefined && (namespace !== undefined || name !== undefined)) {
    throw new ScalerMetadataError('metadata names the pool twice: give either pool or namespace/name');
  }
  const target = pool !== undefined ? split(pool) : { namespace: namespace ?? ref.namespace, name: name ?? ref.name };
  if (!NAMESPACE.test(target.namespace)) throw new ScalerMetadataError(`pool namespace ${JSON.stringify(target.namespace)} is not a Kubernetes namespace name`);
  if (!NAME.test(target.name)) throw new ScalerMetadataError(`pool name ${JSON.stringify(target.name)} is not a Kubernetes object name`);
  return target;
}

/** KEDA prefixes it with the trigger index (`s0-…`) for the HPA and strips that before asking us. */
export function metricNameOf(pool: PoolRef): string {
  return `desired-replicas-${pool.namespace}-${pool.name}`;
}
