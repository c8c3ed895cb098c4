/** Errors every surface of the service (HTTP, KEDA's gRPC) answers in its own terms. */

/** The kinds a request can name that the cluster source may not have. */
export type NamedKind = 'AgentPool' | 'Model' | 'Node';

const CODES: Readonly<Record<NamedKind, string>> = { AgentPool: 'NN_UNKNOWN_POOL', Model: 'NN_UNKNOWN_MODEL', Node: 'NN_UNKNOWN_NODE' };

/** A request named an object the cluster source does not have. */
export class NotFoundError extends Error {
  readonly kind: NamedKind;
  /** `namespace/name`, or the name of a cluster-scoped object. */
  readonly ref: string;
  /** Stable for clients: NN_UNKNOWN_POOL, NN_UNKNOWN_MODEL, NN_UNKNOWN_NODE. */
  readonly code: string;

  constructor(kind: NamedKind, ref: string, hint?: string) {
    super(`no ${kind} ${ref} in the cluster source${hint !== undefined ? ` (${hint})` : ''}`);
    this.name = 'NotFoundError';
    this.kind = kind;
    this.ref = ref;
    this.code = CODES[kind];
  }
}
