/**
 * Pods the extender has bound but the pod informer has not shown bound yet — kube-scheduler's own
 * "assumed pods". Without them, GPU accounting would count a node's GPUs as free until the watch
 * event arrives, and the next pod could be sent to the same GPUs. An entry leaves when the informer
 * confirms the binding, when the pod turns out to be a different one (new UID), or when its TTL
 * passes without confirmation (the pod was deleted, or the event was lost: a relist will tell).
 */
import { podKey, type Pod } from '../api/kubernetes.ts';

interface Assumed {
  readonly pod: Pod;
  readonly node: string;
  readonly expiresAt: number;
}

export interface AssumeCacheOptions {
  ttlMs: number;
  now: () => number;
  /** Told about each entry dropped without confirmation. */
  onExpired?: (pod: Pod, node: string) => void;
}

export class AssumeCache {
  readonly #o: AssumeCacheOptions;
  readonly #entries = new Map<string, Assumed>();

  constructor(options: AssumeCacheOptions) {
    this.#o = options;
  }

  /** Records `pod` as bound to `node`; the stored copy carries the node name. */
  assume(pod: Pod, node: string): void {
    const bound: Pod = { ...pod, spec: { ...pod.spec, nodeName: node } };
    this.#entries.set(podKey(pod), { pod: bound, node, expiresAt: this.#o.now() + this.#o.ttlMs });
  }

  /** The node a pod is assumed on (same UID, when one is given). */
  nodeOf(key: string, uid?: string): string | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || (uid !== undefined && uid !== '' && entry.pod.metadata.uid !== uid)) return undefined;
    return entry.node;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The pods assumed, confirmed or not. */
  pods(): Pod[] {
    return [...this.#entries.values()].map((entry) => entry.pod);
  }

  /**
   * Drops what the informer confirms or contradicts and what has expired; returns the pods still
   * assumed. `informerPod` looks the assumed pod up (by namespace and name) in the informer caches.
   */
  reconcile(informerPod: (assumed: Pod) => Pod | undefined): Pod[] {
    const now = this.#o.now();
    const live: Pod[] = [];
    for (const [key, entry] of this.#entries) {
      const seen = informerPod(entry.pod);
      const seenNode = seen?.spec?.nodeName ?? '';
      const sameUid = seen === undefined || seen.metadata.uid === undefined || seen.metadata.uid === entry.pod.metadata.uid;
      if (seen !== undefined && (!sameUid || seenNode !== '')) {
        this.#entries.delete(key);
        continue;
      }
      if (now >= entry.expiresAt) {
        this.#entries.delete(key);
        this.#o.onExpired?.(entry.pod, entry.node);
        continue;
      }
      live.push(entry.pod);
    }
    return live;
  }
}
