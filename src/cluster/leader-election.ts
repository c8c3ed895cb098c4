/**
 * Leader election on a coordination.k8s.io/v1 Lease, the way client-go's leaderelection does it:
 * several replicas serve reads (filter, prioritize) while only the holder of the Lease writes
 * (autoscaling actuation, AgentPool status). Expiry is judged by when this process last saw the
 * record change, on its own clock, so clock skew between replicas does not matter.
 */
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorCode, apiErrorText } from './kube-api.ts';

/** The three Lease calls election needs (a CoordinationV1Api satisfies it). */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

export interface LeaderElectionOptions {
  api: LeaseApi;
  namespace: string;
  /** The Lease's name, shared by every replica. */
  name: string;
  /** This replica (the pod name). */
  identity: string;
  log: Logger;
  /** How long a Lease stays valid without renewal (client-go default 15s). */
  leaseDurationMs?: number;
  /** A leader that cannot renew for this long steps down (client-go default 10s). */
  renewDeadlineMs?: number;
  /** How often to try (client-go default 2s). */
  retryPeriodMs?: number;
  now?: () => number;
}

export class LeaderElection {
  readonly #o: Required<Omit<LeaderElectionOptions, 'log' | 'api'>> & Pick<LeaderElectionOptions, 'log' | 'api'>;
  readonly #listeners = new Set<(leader: boolean) => void>();
  #leader = false;
  #lastRenew = 0;
  #observed = '';
  #observedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  #stopped = true;

  constructor(options: LeaderElectionOptions) {
    this.#o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, now: Date.now, ...options };
  }

  isLeader(): boolean {
    return this.#leader;
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = (): void => {
      this.#round = this.tryAcquireOrRenew().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.retryPeriodMs).unref();
      });
    };
    tick();
  }

  /** Stops trying and, if leading, releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
    if (!this.#leader) return;
    try {
      const lease = await this.#o.api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
      if (lease.spec?.holderIdentity === this.#o.identity) {
        lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() };
        await this.#o.api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: lease });
      }
    } catch (e: unknown) {
      this.#o.log.warn({ err: apiErrorText(e), lease: this.#o.name }, 'could not release the leader lease; it will expire');
    }
    this.#set(false);
  }

  /** One round: create, renew or take over the Lease. Exposed for tests. */
  async tryAcquireOrRenew(): Promise<void> {
    const { api, name, namespace, identity } = this.#o;
    const now = this.#o.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
      renewTime: new V1MicroTime(),
    };
    try {
      let lease: V1Lease;
      try {
        lease = await api.readNamespacedLease({ name, namespace });
      } catch (e: unknown) {
        if (apiErrorCode(e) !== 404) throw e;
        await api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { ...spec, acquireTime: new V1MicroTime(), leaseTransitions: 0 } },
        });
        this.#renewed(now);
        return;
      }
      const holder = lease.spec?.holderIdentity ?? '';
      // The client deserialises MicroTime as a string or a Date depending on the path; either way it
      // only has to change when the record changes.
      const renewTime: unknown = lease.spec?.renewTime;
      const record = `${holder}@${renewTime instanceof Date ? renewTime.toISOString() : String(renewTime ?? '')}`;
      if (record !== this.#observed) {
        this.#observed = record;
        this.#observedAt = now;
      }
      const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      const held = holder !== '' && holder !== identity && this.#observedAt + durationMs > now;
      if (held) {
        this.#set(false);
        return;
      }
      const taking = holder !== identity;
      lease.spec = {
        ...lease.spec,
        ...spec,
        ...(taking ? { acquireTime: new V1MicroTime(), leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 } : {}),
      };
      await api.replaceNamespacedLease({ name, namespace, body: lease });
      this.#renewed(now);
    } catch (e: unknown) {
      // A conflict means another replica wrote first: it leads this round.
      if (apiErrorCode(e) !== 409) this.#o.log.warn({ err: apiErrorText(e), lease: name }, 'leader election round failed');
      if (this.#leader && now - this.#lastRenew > this.#o.renewDeadlineMs) this.#set(false);
    }
  }

  #renewed(now: number): void {
    this.#lastRenew = now;
    this.#set(true);
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#o.log.info({ lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity }, leader ? 'became leader' : 'lost leadership');
    for (const listener of this.#listeners) listener(leader);
  }
}
