/**
 * Where the node agent tells the cluster what its cache holds. The Kubernetes source patches the
 * Node's `neuronetes.io/cached-models` annotation with it, so scheduling can prefer warm nodes.
 */
export interface CachedModelsPublisher {
  /** `models`: every model in the node's cache, sorted. Called after each change, one call at a time. */
  publish(nodeName: string, models: readonly string[]): Promise<void>;
}
