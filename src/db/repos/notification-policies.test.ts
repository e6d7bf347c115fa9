// The deliveries list of a webhook policy: its page and its total agree while deliveries are being recorded.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../store.js';

for (const dialect of testDialects()) {
  describe(`webhook deliveries list (${dialect})`, () => {
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
  });
}
