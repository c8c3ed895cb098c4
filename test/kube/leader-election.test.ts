import { ApiException, type V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { LeaderElection, type LeaseApi } from '../../src/cluster/leader-election.ts';

const log = pino({ level: 'silent' });

/** One Lease in memory with the API server's optimistic concurrency (resourceVersion → 409). */
function fakeLeaseApi(): LeaseApi & { lease: V1Lease | undefined; failNext: number | undefined } {
  let rv = 1;
  const api = {
    lease: undefined as V1Lease | undefined,
    failNext: undefined as number | undefined,
    async readNamespacedLease(): Promise<V1Lease> {
      if (api.failNext !== undefined) {
        const code = api.failNext;
        api.failNext = undefined;
        throw new ApiException(code, 'boom', JSON.stringify({ message: `failed with ${code}` }), {});
      }
      if (api.lease === undefined) throw new ApiException(404, 'not found', '{"message":"leases not found"}', {});
      return structuredClone(api.lease);
    },
    async createNamespacedLease({ body }: { body: V1Lease }): Promise<V1Lease> {
      if (api.lease !== undefined) throw new ApiException(409, 'exists', '{"message":"already exists"}', {});
      api.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(rv++) } };
      return api.lease;
    },
    async replaceNamespacedLease({ body }: { body: V1Lease }): Promise<V1Lease> {
      if (body.metadata?.resourceVersion !== api.lease?.metadata?.resourceVersion)
        throw new ApiException(409, 'conflict', '{"message":"the object has been modified"}', {});
      api.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(rv++) } };
      return api.lease;
    },
  };
  return api as never;
}

t.test('creates the Lease, renews it, and keeps others out until it expires', async (t) => {
  const api = fakeLeaseApi();
  let now = 0;
  const options = { api, namespace: 'ns', name: 'l', log, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, now: () => now };
  const a = new LeaderElection({ ...options, identity: 'a' });
  const b = new LeaderElection({ ...options, identity: 'b' });
  const seen: boolean[] = [];
  b.onChange((l) => seen.push(l));
  await a.tryAcquireOrRenew();
  t.equal(a.isLeader(), true);
  t.equal(api.lease?.spec?.holderIdentity, 'a');
  await b.tryAcquireOrRenew();
  t.equal(b.isLeader(), false, 'a holds a fresh lease');
  now += 5_000;
  await a.tryAcquireOrRenew();
  await b.tryAcquireOrRenew();
  t.equal(b.isLeader(), false, 'renewed: still held');
  now += 16_000; // a stops renewing; b notices the record has not changed for a lease duration
  await b.tryAcquireOrRenew();
  t.equal(b.isLeader(), true, 'took over the expired lease');
  t.equal(api.lease?.spec?.leaseTransitions, 1);
  t.same(seen, [true]);
  await a.tryAcquireOrRenew();
  t.equal(a.isLeader(), false, 'the old leader sees the new holder and steps down');
});

t.test('a leader that cannot renew steps down after the renew deadline; conflicts are quiet', async (t) => {
  const api = fakeLeaseApi();
  let now = 0;
  const a = new LeaderElection({ api, namespace: 'ns', name: 'l', identity: 'a', log, renewDeadlineMs: 10_000, now: () => now });
  await a.tryAcquireOrRenew();
  t.equal(a.isLeader(), true);
  api.failNext = 500;
  now += 2_000;
  await a.tryAcquireOrRenew();
  t.equal(a.isLeader(), true, 'one failed renewal inside the deadline keeps leadership');
  api.failNext = 503;
  now += 11_000;
  await a.tryAcquireOrRenew();
  t.equal(a.isLeader(), false, 'past the deadline it steps down');
});

t.test('start/stop: stop releases the lease so a successor need not wait', async (t) => {
  const api = fakeLeaseApi();
  const a = new LeaderElection({ api, namespace: 'ns', name: 'l', identity: 'a', log, retryPeriodMs: 10 });
  a.start();
  a.start(); // idempotent
  while (!a.isLeader()) await new Promise((r) => setTimeout(r, 5));
  await a.stop();
  t.equal(a.isLeader(), false);
  t.equal(api.lease?.spec?.holderIdentity, '', 'released');
  const b = new LeaderElection({ api, namespace: 'ns', name: 'l', identity: 'b', log });
  await b.tryAcquireOrRenew();
  t.equal(b.isLeader(), true, 'the successor takes a released lease at once');
});
