// The delivery thread's event batches: sent first, recorded once. The receivers are a fake at the network
// edge (`post`); the queue, the rows and the log are the real ones on SQLite (and PostgreSQL).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { waitFor } from '../../../test/helpers/wait.js';
import type { MetaStore } from '../../db/store.js';
import { jobLogText } from '../../jobs/queue.js';
import { systemClock } from '../../lib/clock.js';
import { createLogger } from '../../lib/logger.js';
import { allQuery } from '../../lib/query.js';
import { EventBatches } from './event-batches.js';
import { TargetGate } from './target-gate.js';
import { WebhookDeliveries } from './webhook-deliveries.js';
import type { WebhookPolicy } from './webhook-policies.js';

for (const dialect of testDialects()) {
  describe(`webhook event batches (${dialect})`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let policyId: number;
    let projectId: number;
    const now = () => new Date().toISOString();

    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      projectId = (await store.projects.ensure('hooks', now())).id;
      const target = (path: string) => ({
        type: 'http',
        address: `http://127.0.0.1:9/${path}`,
        skip_cert_verify: false,
      });
      policyId = await store.notificationPolicies.create(
        projectId,
        {
          ...{ name: 'p', description: '', enabled: true },
          targets: JSON.stringify([target('ok'), target('bad')]),
          eventTypes: JSON.stringify(['PUSH_ARTIFACT']),
        },
        'admin',
        now(),
      );
    });
    after(async () => {
      await database.close();
    });

    const pushEvent = (tag: string) =>
      store.jobs.insertPlain(
        {
          kind: 'webhook.event',
          payload: JSON.stringify({
            projectId,
            event: {
              type: 'PUSH_ARTIFACT',
              occurAt: 1764912000,
              operator: 'admin',
              eventData: { resources: [{ digest: 'sha256:ab', tag }] },
            },
          }),
          maxAttempts: 5,
          runAfter: now(),
        },
        now(),
      );

    test('sends before it writes anything, then records the batch: the success finished with its log, the failure a pending retry', async () => {
      await pushEvent('v1');
      const seen: { address: string; executionsThen: number }[] = [];
      let queued = 0;
      const batches = new EventBatches({
        ...{ store, clock: systemClock, log: createLogger('silent'), gate: new TargetGate(2) },
        post: async (address, _headers, body) => {
          const executionsThen = (await store.notificationPolicies.listDeliveries(policyId, allQuery()))
            .total;
          seen.push({ address, executionsThen });
          assert.match(body, /"tag":"v1"/);
          return address.endsWith('/ok') ? { status: 200, body: '' } : { status: 500, body: 'no' };
        },
        retry: { maxAttempts: 3, retryDelayMs: 60_000, perTarget: 2 },
        ...{ leaseMs: 30_000, pollMs: 60_000, lingerMs: 10, spillMs: 1000, maxEvents: 100 },
        queued: () => queued++,
      });
      batches.start();
      const page = await waitFor('the batch recorded', async () => {
        const p = await store.notificationPolicies.listDeliveries(policyId, allQuery());
        return p.total === 2 && p;
      });
      await batches.close();

      assert.deepEqual(seen.map((s) => s.address).sort(), [
        'http://127.0.0.1:9/bad',
        'http://127.0.0.1:9/ok',
      ]);
      assert.deepEqual(
        seen.map((s) => s.executionsThen),
        [0, 0],
        'nothing was written while sending',
      );
      const tasks = await Promise.all(
        page.items.map(async (d) => (await store.notificationPolicies.deliveryTasks(d.id))[0]!),
      );
      const ok = tasks.find((t) => t.status === 'succeeded')!;
      const bad = tasks.find((t) => t.status !== 'succeeded')!;
      assert.equal(ok.attempts, 1);
      // The success is its execution row alone (migration 0022): no job, no log row; the API's task and
      // log come from that row, as they came from the job.
      assert.equal(ok.id, ok.execution_id, 'the task carried by its execution');
      assert.equal(await store.jobs.find(ok.id).then((j) => j?.execution_id === ok.id), false);
      assert.ok(ok.start_time && ok.end_time && ok.start_time <= ok.end_time);
      const deliveries = new WebhookDeliveries({ store });
      const policy = { id: policyId } as WebhookPolicy;
      assert.match(
        await deliveries.log(policy, ok.execution_id!, ok.id),
        /^\S+ attempt 1 of 3 started on \S+\n\S+ sent the http request to http:\/\/127\.0\.0\.1:9\/ok: 200 in \d+ ms\n\S+ succeeded\n$/,
      );
      const success = await store.notificationPolicies.listDeliveries(policyId, allQuery(), ['succeeded']);
      assert.deepEqual(
        success.items.map((d) => [d.id, d.job_id, d.job_status]),
        [[ok.execution_id, ok.id, 'succeeded']],
      );
      assert.equal(success.items[0]!.job_end_time, ok.end_time);
      assert.equal(bad.status, 'pending');
      assert.equal(bad.attempts, 1);
      assert.equal(bad.last_error, 'abnormal response code: 500, body: no');
      assert.ok(Date.parse(bad.run_after) > Date.now() + 50_000, 'retried after the backoff');
      assert.match(JSON.parse(bad.payload).body as string, /"tag":"v1"/, 'a retry keeps its body');
      assert.match(
        await jobLogText(store, bad),
        /\n\S+ failed: abnormal response code: 500, body: no; retrying in \d+\.\d s\n$/,
      );
      assert.ok(queued > 0, 'the job worker is told of the retry');
      assert.equal(await store.jobs.hasRunnable(['webhook.event'], now()), false, 'the event is done');
    });

    test('a target at its cap: the request waits for a slot, and one that waits past spillMs becomes a pending job', async () => {
      await pushEvent('v2');
      const gate = new TargetGate(1);
      // Both targets full: nothing is sent, both deliveries are written as jobs for the job worker.
      assert.equal(await gate.acquire('http://127.0.0.1:9/ok'), true);
      assert.equal(await gate.acquire('http://127.0.0.1:9/bad'), true);
      let posts = 0;
      const batches = new EventBatches({
        ...{ store, clock: systemClock, log: createLogger('silent'), gate },
        post: () => {
          posts++;
          return Promise.resolve({ status: 200, body: '' });
        },
        retry: { maxAttempts: 3, retryDelayMs: 60_000, perTarget: 1 },
        ...{ leaseMs: 30_000, pollMs: 60_000, lingerMs: 10, spillMs: 50, maxEvents: 100 },
        queued: () => {},
      });
      batches.start();
      const page = await waitFor('the batch recorded', async () => {
        const p = await store.notificationPolicies.listDeliveries(policyId, allQuery());
        return p.total === 4 && p;
      });
      await batches.close();
      assert.equal(posts, 0);
      const spilled = await Promise.all(
        page.items.slice(0, 2).map(async (d) => (await store.notificationPolicies.deliveryTasks(d.id))[0]!),
      );
      for (const t of spilled) {
        assert.equal(t.status, 'pending');
        assert.equal(t.attempts, 0);
        assert.match(JSON.parse(t.payload).body as string, /"tag":"v2"/);
        assert.equal(await jobLogText(store, t), '');
      }
    });

    test('a delivery that fails with no try left is its execution alone: status Error, its message, its log', async () => {
      const own = await store.notificationPolicies.create(
        projectId,
        {
          ...{ name: 'once', description: '', enabled: true },
          targets: JSON.stringify([
            { type: 'http', address: 'http://127.0.0.1:9/once', skip_cert_verify: false },
          ]),
          eventTypes: JSON.stringify(['DELETE_ARTIFACT']),
        },
        'admin',
        now(),
      );
      await store.jobs.insertPlain(
        {
          kind: 'webhook.event',
          payload: JSON.stringify({
            projectId,
            event: { type: 'DELETE_ARTIFACT', occurAt: 1764912000, operator: 'admin', eventData: {} },
          }),
          maxAttempts: 5,
          runAfter: now(),
        },
        now(),
      );
      const batches = new EventBatches({
        ...{ store, clock: systemClock, log: createLogger('silent'), gate: new TargetGate(2) },
        post: () => Promise.resolve({ status: 503, body: 'busy' }),
        retry: { maxAttempts: 1, retryDelayMs: 60_000, perTarget: 2 },
        ...{ leaseMs: 30_000, pollMs: 60_000, lingerMs: 10, spillMs: 1000, maxEvents: 100 },
        queued: () => assert.fail('nothing to retry'),
      });
      batches.start();
      const page = await waitFor('the batch recorded', async () => {
        const p = await store.notificationPolicies.listDeliveries(own, allQuery(), ['failed']);
        return p.total === 1 && p;
      });
      await batches.close();
      const row = page.items[0]!;
      assert.equal(row.job_status, 'failed');
      assert.equal(row.job_error, 'abnormal response code: 503, body: busy');
      assert.equal(row.status_message, 'abnormal response code: 503, body: busy');
      assert.deepEqual(JSON.parse(row.extra_attrs), {
        event_type: 'DELETE_ARTIFACT',
        payload: '{"type":"DELETE_ARTIFACT","occur_at":1764912000,"operator":"admin"}',
      });
      const [task] = await store.notificationPolicies.deliveryTasks(row.id);
      assert.equal(task!.status, 'failed');
      assert.equal(task!.last_error, 'abnormal response code: 503, body: busy');
      assert.match(
        await new WebhookDeliveries({ store }).log({ id: own } as WebhookPolicy, row.id, task!.id),
        /^\S+ attempt 1 of 1 started on \S+\n\S+ failed: abnormal response code: 503, body: busy\nerror: abnormal response code: 503, body: busy\n$/,
      );
      assert.equal(
        (await store.notificationPolicies.listDeliveries(own, allQuery(), ['succeeded'])).total,
        0,
      );
    });
  });
}
