/**
 * Kubernetes Events on AgentPools, aggregated as client-go's EventCorrelator does: the same reason
 * and message for the same pool raises the `count` of one Event (a patch) instead of creating
 * another, so a condition that holds for an hour is one line in `kubectl describe`, "x40 over 1h".
 */
import { randomBytes } from 'node:crypto';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, type AgentPool } from '../api/neuronetes.ts';
import { apiErrorCode, apiErrorText } from '../cluster/kube-api.ts';

export type EventType = 'Normal' | 'Warning';

export interface PoolEvent {
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

/** Where pool events go; recording never throws (an event is worth a log line, not a failed round). */
export interface PoolEventSink {
  record(pool: AgentPool, event: PoolEvent): Promise<void>;
}

const COMPONENT = 'neuronetes-extender';
/** Entries kept for aggregation; the oldest go first (an Event's own TTL is an hour by default). */
const MAX_SERIES = 1_000;

interface Series {
  readonly name: string;
  count: number;
}

export class KubernetesPoolEvents implements PoolEventSink {
  readonly #core: CoreV1Api;
  readonly #log: Logger;
  readonly #instance: string;
  readonly #series = new Map<string, Series>();

  constructor(kubeConfig: KubeConfig, log: Logger, instance: string) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#log = log;
    this.#instance = instance;
  }

  async record(pool: AgentPool, event: PoolEvent): Promise<void> {
    const namespace = pool.metadata.namespace ?? 'default';
    const key = `${namespace}/${pool.metadata.name}/${pool.metadata.uid ?? ''}\n${event.type}\n${event.reason}\n${event.message}`;
    const now = new Date();
    try {
      const series = this.#series.get(key);
      if (series !== undefined) {
        series.count++;
        try {
          await this.#core.patchNamespacedEvent(
            { name: series.name, namespace, body: { count: series.count, lastTimestamp: now.toISOString() } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
          return;
        } catch (e: unknown) {
          if (apiErrorCode(e) !== 404) throw e;
          this.#series.delete(key); // expired: start a new series
        }
      }
      const name = `${pool.metadata.name}.${randomBytes(8).toString('hex')}`;
      await this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: 'AgentPool',
            name: pool.metadata.name,
            namespace,
            ...(pool.metadata.uid !== undefined ? { uid: pool.metadata.uid } : {}),
          },
          type: event.type,
          reason: event.reason,
          message: event.message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: COMPONENT },
          reportingComponent: `neuronetes.io/${COMPONENT}`,
          reportingInstance: this.#instance,
        },
      });
      if (this.#series.size >= MAX_SERIES) this.#series.delete(this.#series.keys().next().value as string);
      this.#series.set(key, { name, count: 1 });
    } catch (e: unknown) {
      this.#log.warn({ pool: `${namespace}/${pool.metadata.name}`, reason: event.reason, err: apiErrorText(e) }, 'could not record an event on the pool');
    }
  }
}
