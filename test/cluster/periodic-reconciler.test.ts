/**
 * The schedule of the leader's controllers (pool controller, model status controller): a round at
 * start and every interval, one round a quiet time after a burst of changes, rounds one at a time,
 * timers that do not hold the process open, and nothing after close. The controllers' own tests
 * cover what their rounds do.
 */
import { pino } from 'pino';
import t from 'tap';
import type { ClusterView } from '../../src/cluster/cluster-view.ts';
import { PeriodicReconciler, type ReconcileTrigger } from '../../src/cluster/periodic-reconciler.ts';
import { clusterView } from '../../src/testing/index.ts';

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** A change feed and a reconcile that records its triggers and how many rounds ran at once. */
function harness(options: { intervalMs: number; changeDelayMs: number; roundMs?: number; failing?: number }): {
  reconciler: PeriodicReconciler;
  rounds: ReconcileTrigger[];
  logged: string[];
  change(): void;
  listeners(): number;
  maxInFlight(): number;
} {
  const listeners = new Set<(view: ClusterView) => void>();
  const rounds: ReconcileTrigger[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let failing = options.failing ?? 0;
  const logged: string[] = [];
  const reconciler = new PeriodicReconciler({
    source: {
      onChange: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    intervalMs: options.intervalMs,
    changeDelayMs: options.changeDelayMs,
    reconcile: async (trigger) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await settle(options.roundMs ?? 0);
      rounds.push(trigger);
      inFlight--;
      if (failing-- > 0) throw new Error(`round ${rounds.length} broke`);
    },
    log: pino({ level: 'error' }, { write: (line: string) => logged.push(line) }),
  });
  return {
    reconciler,
    rounds,
    logged,
    change: () => {
      for (const listener of listeners) listener(clusterView());
    },
    listeners: () => listeners.size,
    maxInFlight: () => maxInFlight,
  };
}

t.test('a round at start, then one each interval; start twice runs one schedule', async (t) => {
  const h = harness({ intervalMs: 60, changeDelayMs: 10 });
  const before = timeouts();
  h.reconciler.start();
  h.reconciler.start();
  t.equal(timeouts(), before, "the timers are unref'd: they do not keep the process alive");
  await settle(15);
  t.same(h.rounds, ['interval'], 'the first round runs at once');
  await settle(200);
  // 4 rounds fit in 215 ms; a second schedule would double that. Loose bounds for a busy machine.
  t.ok(h.rounds.length >= 2 && h.rounds.length <= 5, `rounds every interval, one schedule (${h.rounds.length})`);
  t.ok(
    h.rounds.every((r) => r === 'interval'),
    'no change, no change round',
  );
  await h.reconciler.close();
});

t.test('a burst of changes starts one round after the quiet time, not before', async (t) => {
  const h = harness({ intervalMs: 3_600_000, changeDelayMs: 100 });
  h.reconciler.start();
  await settle(10);
  for (let i = 0; i < 5; i++) h.change();
  await settle(20);
  t.same(h.rounds, ['interval'], 'nothing yet: the quiet time has not passed');
  await settle(200);
  t.same(h.rounds, ['interval', 'change'], 'five changes, one round');
  h.change();
  await settle(200);
  t.same(h.rounds, ['interval', 'change', 'change'], 'a later change starts another');
  await h.reconciler.close();
});

t.test('rounds never overlap: a change during a round waits for it', async (t) => {
  const h = harness({ intervalMs: 3_600_000, changeDelayMs: 1, roundMs: 60 });
  h.reconciler.start();
  await settle(10);
  h.change();
  await settle(250);
  t.same(h.rounds, ['interval', 'change']);
  t.equal(h.maxInFlight(), 1);
  await h.reconciler.close();
});

t.test('close waits for the round in flight, then nothing runs and changes are not heard', async (t) => {
  const h = harness({ intervalMs: 20, changeDelayMs: 1, roundMs: 50 });
  h.reconciler.start();
  await settle(10);
  t.equal(h.listeners(), 1);
  t.notOk(h.reconciler.closed);
  await h.reconciler.close();
  t.same(h.rounds, ['interval'], 'close returned after the round in flight ended');
  t.ok(h.reconciler.closed, 'closed: a round checking it stops writing');
  t.equal(h.listeners(), 0, 'unsubscribed from changes');
  h.change();
  await settle(80);
  t.same(h.rounds, ['interval'], 'no interval round and no change round after close');
});

t.test('a round that throws is logged and the schedule goes on', async (t) => {
  const h = harness({ intervalMs: 3_600_000, changeDelayMs: 1, failing: 2 });
  h.reconciler.start();
  await settle(10);
  h.change();
  await settle(40);
  h.change();
  await settle(40);
  t.same(h.rounds, ['interval', 'change', 'change'], 'rounds after a failed one still run');
  t.equal(h.logged.length, 2, 'each failure logged once');
  t.match(h.logged[0], /"trigger":"interval".*round 1 broke.*the next one retries/);
  t.match(h.logged[1], /"trigger":"change".*round 2 broke/);
  await h.reconciler.close();
});
