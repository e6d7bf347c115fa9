// The webhook delivery thread starts when it has work, not at boot (issue 15's idle RSS): on this
// process's first delivery (`wake`), or when its probe finds deliveries another process wrote.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { waitFor } from '../../../test/helpers/wait.js';
import type { MetaStore } from '../../db/store.js';
import { JobQueue } from '../../jobs/queue.js';
import { createLogger } from '../../lib/logger.js';
import { DeliveryThread } from './delivery-thread.js';
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

    const thread = (probeMs: number) =>
      new DeliveryThread(
        {
          ...{ databaseUrl: database.url, acquireTimeoutMs: 5000, logLevel: 'silent', leaseMs: 30_000 },
          ...{ pollMs: 1000, concurrency: {}, timeoutMs: 1000 },
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
  });
}
