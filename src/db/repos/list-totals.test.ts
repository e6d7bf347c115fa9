// Lists that jobs add to while they are read (a webhook policy's deliveries, a vendor's executions): each
// page and its total agree, read in one statement.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../store.js';

for (const dialect of testDialects()) {
  describe(`list totals (${dialect})`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let policyId: number;
    const now = () => new Date().toISOString();

    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      const projectId = (await store.projects.ensure('hooks', now())).id;
      policyId = await store.notificationPolicies.create(
        projectId,
        {
          ...{ name: 'p', description: '', enabled: true },
          targets: JSON.stringify([
            { type: 'http', address: 'http://127.0.0.1:9/', skip_cert_verify: false },
          ]),
          eventTypes: JSON.stringify(['PUSH_ARTIFACT']),
        },
        'admin',
        now(),
      );
    });
    after(async () => {
      await database.close();
    });

    test('the total never trails the rows it pages, with deliveries recorded between its reads', async () => {
      const executions = store.executions('WEBHOOK');
      const query = { page: 1, pageSize: 100, sorts: [], keywords: {} };
      for (let round = 0; round < 30; round++) {
        const [page] = await Promise.all([
          store.notificationPolicies.listDeliveries(policyId, query),
          // Recorded while the list runs: each insert lands between two of the list's statements.
          (async () => {
            for (let i = 0; i < 3; i++) await executions.create(policyId, 'EVENT', now());
          })(),
        ]);
        assert.equal(page.total, page.items.length, `round ${round}`);
      }
      const last = await store.notificationPolicies.listDeliveries(policyId, query);
      assert.equal(last.total, 90);
      assert.equal(last.items.length, 90);
      // Past the last page: no rows, and the total still counted.
      const beyond = await store.notificationPolicies.listDeliveries(policyId, {
        ...query,
        page: 3,
        pageSize: 50,
      });
      assert.deepEqual([beyond.total, beyond.items.length], [90, 0]);
    });

    test("a vendor's executions: the total never trails the rows, with runs added between its reads", async () => {
      const executions = store.executions('REPLICATION');
      for (let round = 0; round < 30; round++) {
        const [page] = await Promise.all([
          executions.list({ vendorId: 7, offset: 0, limit: 100 }),
          (async () => {
            for (let i = 0; i < 3; i++) await executions.create(7, 'MANUAL', now());
          })(),
        ]);
        assert.equal(page.total, page.rows.length, `round ${round}`);
        assert.ok(page.rows.every((r) => !('total_rows' in r)));
      }
      const second = await executions.list({ vendorId: 7, offset: 50, limit: 50 });
      assert.deepEqual([second.total, second.rows.length], [90, 40]);
      const beyond = await executions.list({ vendorId: 7, offset: 100, limit: 50 });
      assert.deepEqual([beyond.total, beyond.rows.length], [90, 0]);
      assert.equal((await store.executions('GARBAGE_COLLECTION').list({ offset: 0, limit: 10 })).total, 0);
    });
  });
}
