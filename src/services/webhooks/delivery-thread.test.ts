// The webhook delivery thread starts when it has work, not at boot (issue 15's idle RSS): on this
// process's first delivery (`wake`), or when its probe finds deliveries another process wrote. It runs at
// SCHED_IDLE by default and hands over to a thread at normal priority when its claims fall behind.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { platform } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { waitFor } from '../../../test/helpers/wait.js';
import type { MetaStore } from '../../db/store.js';
import { JobQueue } from '../../jobs/queue.js';
import { createLogger } from '../../lib/logger.js';
import { schedIdle, schedPolicyOf } from '../../lib/thread-priority.js';
import { DeliveryThread, type DeliveryPriority } from './delivery-thread.js';
import { webhookKindNames } from './webhook-fanout.js';

for (const dialect of testDialects()) {
  describe(`webhook delivery thread start (${dialect})`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    const now = () => new Date().toISOString();

    before(async () => {
      ({ store, database } = await createTestStore(dialect));
    });
    after(async () => {
      await database.close();
    });

    const thread = (
      probeMs: number,
      priority: DeliveryPriority = 'idle',
      limits: { starvedMs?: number; slowHoldMs?: number } = {},
    ) =>
      new DeliveryThread(
        {
          ...{ databaseUrl: database.url, acquireTimeoutMs: 5000, logLevel: 'silent', leaseMs: 30_000 },
          ...{ pollMs: 1000, concurrency: {}, timeoutMs: 1000, priority },
          ...limits,
          retry: { maxAttempts: 1, retryDelayMs: 100, perTarget: 1 },
        },
        {
          ...{
            log: createLogger('silent'),
            queue: new JobQueue({ store, clock: { now: () => new Date() } }),
          },
          ...{ probeMs, runnable: () => store.jobs.hasRunnable(webhookKindNames, now()) },
        },
      );

    test('no thread while nothing is to be delivered; wake() starts it', async () => {
      const t = thread(20);
      try {
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(t.started, false, 'no thread after several probes of an empty queue');
        t.wake();
        assert.equal(t.started, true);
      } finally {
        await t.close();
      }
    });

    test("the probe starts it for a delivery another process wrote; other kinds and future jobs don't", async () => {
      const t = thread(20);
      try {
        const later = new Date(Date.now() + 3_600_000).toISOString();
        await store.jobs.insert({ kind: 'gc', payload: '{}', maxAttempts: 1, runAfter: now() }, now());
        await store.jobs.insert(
          { kind: 'webhook.event', payload: '{}', maxAttempts: 1, runAfter: later },
          now(),
        );
        assert.equal(await store.jobs.hasRunnable(webhookKindNames, now()), false);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(t.started, false);
        await store.jobs.insert(
          { kind: 'webhook.event', payload: '{}', maxAttempts: 1, runAfter: now() },
          now(),
        );
        await waitFor('the probe starting the thread', () => t.started, 5000);
      } finally {
        await t.close();
      }
    });

    // The threads of this process under SCHED_IDLE (Linux).
    const idleThreads = () =>
      readdirSync('/proc/self/task')
        .map(Number)
        .filter((tid) => schedPolicyOf(tid) === schedIdle);
    const linux = platform() === 'linux';
    const status = async (id: number) => (await store.jobs.find(id))?.status;
    const event = () =>
      store.jobs.insert({ kind: 'webhook.event', payload: '{}', maxAttempts: 1, runAfter: now() }, now());

    test(
      'the thread runs at SCHED_IDLE; the serving thread keeps its priority',
      { skip: !linux },
      async () => {
        assert.deepEqual(idleThreads(), [], 'no idle thread before');
        const t = thread(60_000);
        try {
          t.wake();
          const [tid] = await waitFor('the delivery thread at SCHED_IDLE', () => {
            const tids = idleThreads();
            return tids.length > 0 && tids;
          });
          assert.notEqual(tid, process.pid);
          assert.equal(schedPolicyOf(process.pid), 0, 'the serving thread stays SCHED_OTHER');
          // It delivers as before: an event is claimed and ended (its payload is no event: failed).
          const id = await event();
          t.wake();
          await waitFor('the event ended', async () => (await status(id)) === 'failed', 10_000);
          assert.equal(t.rescues, 0);
        } finally {
          await t.close();
        }
        assert.deepEqual(idleThreads(), [], 'the thread ended with close()');
      },
    );

    test('webhooks.deliveryPriority normal: no thread at SCHED_IDLE', { skip: !linux }, async () => {
      const t = thread(60_000, 'normal');
      try {
        t.wake();
        const id = await event();
        t.wake();
        await waitFor('the event ended', async () => (await status(id)) === 'failed', 10_000);
        assert.deepEqual(idleThreads(), []);
      } finally {
        await t.close();
      }
    });

    test(
      'an idle thread whose claim finds events older than starvedMs hands over to one at normal priority',
      {
        skip: !linux,
      },
      async () => {
        // Any claim is late by more than 1 ms: the hand-over the CPU-starved thread asks for, on demand.
        const t = thread(60_000, 'idle', { starvedMs: 1 });
        try {
          t.wake();
          await waitFor('the delivery thread at SCHED_IDLE', () => idleThreads().length === 1);
          const first = await event();
          t.wake();
          await waitFor('the hand-over', () => t.rescues === 1, 10_000);
          await waitFor('the first event ended', async () => (await status(first)) === 'failed', 10_000);
          // The idle thread ends; the new one runs at normal priority and delivers.
          await waitFor('no thread left at SCHED_IDLE', () => idleThreads().length === 0, 10_000);
          const second = await event();
          t.wake();
          await waitFor('the second event ended', async () => (await status(second)) === 'failed', 10_000);
          assert.equal(t.rescues, 1, 'a thread at normal priority does not hand over');
        } finally {
          await t.close();
        }
      },
    );

    test(
      'an idle thread whose record held the database slowHoldMs or longer hands over too',
      {
        skip: !linux,
      },
      async () => {
        // Every record holds its transaction 0 ms or longer: the hold a preempted idle thread makes the
        // pushes wait for, on demand.
        const t = thread(60_000, 'idle', { starvedMs: 60_000, slowHoldMs: 0 });
        try {
          t.wake();
          await waitFor('the delivery thread at SCHED_IDLE', () => idleThreads().length === 1);
          const id = await event();
          t.wake();
          await waitFor('the event ended', async () => (await status(id)) === 'failed', 10_000);
          await waitFor('the hand-over after its record', () => t.rescues === 1, 10_000);
          await waitFor('no thread left at SCHED_IDLE', () => idleThreads().length === 0, 10_000);
        } finally {
          await t.close();
        }
      },
    );
  });
}
