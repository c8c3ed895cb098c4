/**
 * The Kubernetes CachedModelsPublisher: merge-patches this agent's own Node with the
 * `neuronetes.io/cached-models` annotation (comma-separated, as node-facts reads it). A merge patch
 * touches that one key, so no read-modify-write and no informer: the agent writes, the extender's
 * informer reads. RBAC: `patch` on nodes (manifests/rbac-agent.yaml).
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { Annotations } from '../api/neuronetes.ts';
import { apiErrorText } from '../cluster/kube-api.ts';
import type { CachedModelsPublisher } from './cached-models-publisher.ts';

export class NodeAnnotationPublisher implements CachedModelsPublisher {
  readonly #core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async publish(nodeName: string, models: readonly string[]): Promise<void> {
    const body = { metadata: { annotations: { [Annotations.cachedModels]: models.join(',') } } };
    try {
      await this.#core.patchNode({ name: nodeName, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    } catch (e: unknown) {
      throw new Error(`annotating Node ${nodeName} with its cached models failed: ${apiErrorText(e)}`, { cause: e });
    }
  }
}
