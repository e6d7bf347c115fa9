import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../../db/store.js';
import { systemClock } from '../../lib/clock.js';
import { createLogger } from '../../lib/logger.js';
import { allQuery } from '../../lib/query.js';
import { AuditLog } from './audit-log.js';

const entry = {
  operation: 'pull',
  resourceType: 'artifact',
  resource: 'lib/app:v1',
  username: 'admin',
  clientIp: '127.0.0.1',
  userAgent: 'test',
  success: true,
};

for (const dialect of testDialects()) {
  describe(`AuditLog on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    test('record() only buffers; a flush writes the batch with projects resolved by name or id', async () => {
      const project = await store.projects.ensure('lib', '2024-01-01T00:00:00.000Z');
      const audit = new AuditLog({
        store,
        clock: systemClock,
        log: createLogger('silent'),
        intervalMs: 60_000,
      });
      audit.record({ ...entry, project: { name: 'lib' } });
      audit.record({ ...entry, operation: 'delete', project: { id: project.id } });
      audit.record({ ...entry, resource: 'gone/app:v1', project: { name: 'gone' } });
      assert.equal((await store.audit.list('all', allQuery())).total, 0, 'nothing written before the flush');
      await audit.flush();
      const { rows } = await store.audit.list('all', allQuery());
      assert.equal(rows.length, 3);
      assert.deepEqual(
        rows.map((r) => [r.operation, r.resource, r.project_id]).sort(),
        [
          ['delete', 'lib/app:v1', project.id],
          ['pull', 'gone/app:v1', null],
          ['pull', 'lib/app:v1', project.id],
        ].sort(),
      );
      assert.equal((await store.audit.list({ projectIds: [project.id] }, allQuery())).total, 2);
      assert.equal((await store.audit.list({ projectIds: [] }, allQuery())).total, 0);
      await audit.stop();
    });

    test('the buffer is written when it fills, without waiting for the timer', async () => {
      const audit = new AuditLog({
        store,
        clock: systemClock,
        log: createLogger('silent'),
        intervalMs: 60_000,
        maxBuffer: 5,
      });
      const before = (await store.audit.list('all', allQuery())).total;
      for (let i = 0; i < 5; i++) audit.record({ ...entry, resource: `fill/app:${i}` });
      const deadline = Date.now() + 10_000;
      while ((await store.audit.list('all', allQuery())).total < before + 5) {
        assert.ok(Date.now() < deadline, 'a full buffer was not written');
        await new Promise((r) => setTimeout(r, 20));
      }
      await audit.stop();
    });
  });
}
