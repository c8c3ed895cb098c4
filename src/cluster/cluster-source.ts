/** Where the extender's picture of the cluster comes from: a snapshot directory, or the API server. */
import type { AgentPool, Model } from '../api/neuronetes.ts';
import type { ClusterView } from './cluster-view.ts';

export interface PodBinding {
  podNamespace: string;
  podName: string;
  podUid: string;
  node: string;
}

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export interface ClusterSource {
  /** `snapshot` or `kubernetes`, for logs and /debug. */
  readonly kind: string;
  /** Resolves once the first full picture is loaded. */
  start(): Promise<void>;
  close(): Promise<void>;
  /** The current picture; cheap, call it per request. */
  view(): ClusterView;
  readiness(): Readiness;
  /** Binds a pod to a node (the extender's bind verb). Idempotent for the same pod and node. */
  bind(binding: PodBinding): Promise<void>;
  /** Called after every change of the picture. Returns an unsubscribe function. */
  onChange(listener: (view: ClusterView) => void): () => void;
  /** Writers (autoscaling actuation, status) act only while this is true: the replica holds the leader Lease. Absent means always. */
  isLeader?(): boolean;
  /** Persists an AgentPool's status (merge patch of the status subresource). Absent where there is nowhere to write. */
  patchPoolStatus?(namespace: string, name: string, status: Partial<NonNullable<AgentPool['status']>>): Promise<void>;
  /** Persists a Model's status (merge patch of the status subresource; the model status controller). */
  patchModelStatus?(namespace: string, name: string, status: Partial<NonNullable<Model['status']>>): Promise<void>;
  /** Sets an AgentPool's `spec.replicas` through its scale subresource (the autoscaling actuator). */
  scalePool?(namespace: string, name: string, replicas: number): Promise<void>;
}

export class BindError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BindError';
  }
}
