import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccessControl } from '../access/access-control.js';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../../db/store.js';
import { createLogger } from '../../lib/logger.js';
import { InsightRecorder } from './insight-recorder.js';
import { InsightService, resolveRange } from './insight-service.js';

const log = createLogger('silent');

for (const dialect of testDialects()) {
  describe(`InsightRecorder and InsightService on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let now = new Date('2026-03-01T23:59:00Z');
    const clock = { now: () => now };
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    test('two nodes flushing into the same day add up; days are UTC dates; bytes and users are kept', async () => {
      const p = await store.projects.ensure('ins', now.toISOString());
      const nodeA = new InsightRecorder({ store, clock, log, intervalMs: 60_000 });
      const nodeB = new InsightRecorder({ store, clock, log, intervalMs: 60_000 });
      nodeA.recordPush({ repository: 'ins/app', size: 100, username: 'alice' });
      nodeA.recordPull({ repository: 'ins/app', size: 100, username: 'alice' });
      nodeB.recordPull({ repository: 'ins/app', size: 100, username: 'bob' });
      nodeB.recordPull({ repository: 'ins/app', size: 100 });
      await Promise.all([nodeA.flush(), nodeB.flush()]);
      nodeA.recordPull({ repository: 'ins/app', size: 100, username: 'alice' });
      now = new Date('2026-03-02T00:01:00Z');
      nodeB.recordDelete({ repository: 'ins/app' });
      nodeB.recordPull({ repository: 'ins/other', size: 7, username: 'bob' });
      await Promise.all([nodeA.flush(), nodeB.flush()]);
      // An event for a project that no longer exists is dropped, not an error.
      nodeA.recordPush({ repository: 'gone/app', size: 1, username: 'x' });
      await nodeA.flush();

      const service = new InsightService({ store, clock, access: new AccessControl({ store }) });
      const o = await service.overview([p.id], service.range({ from: '2026-03-01', to: '2026-03-02' }), 10);
      assert.deepEqual(
        o.activity.map((d) => [d.day, d.pushes, d.pulls, d.deletes, d.pushBytes, d.pullBytes, d.activeUsers]),
        [
          ['2026-03-01', 1, 4, 0, 100, 400, 2],
          ['2026-03-02', 0, 1, 1, 0, 7, 1],
        ],
      );
      assert.equal(o.totals.activeUsers, 2);
      assert.deepEqual(
        o.topRepositories.map((r) => [r.repository, r.pushes, r.pulls]),
        [
          ['ins/app', 1, 4],
          ['ins/other', 0, 1],
        ],
      );
      assert.deepEqual(
        o.topUsers.map((u) => [u.username, u.pushes, u.pulls, u.activeDays]),
        [
          ['alice', 1, 2, 1],
          ['bob', 0, 2, 2],
        ],
      );
      // Another project's scope sees none of it.
      const other = await store.projects.ensure('elsewhere', now.toISOString());
      const none = await service.overview([other.id], service.range({ days: 2 }), 10);
      assert.equal(none.totals.pulls + none.totals.pushes, 0);
    });

    test('storage is a snapshot per day, carried forward over days without one', async () => {
      const p = await store.projects.ensure('snap', now.toISOString());
      await store.projectCatalog.setQuota(p.id, -1, now.toISOString());
      const day = (d: string) => store.insights.snapshotStorage(d, [p.id]);
      await day('2026-02-20');
      const service = new InsightService({ store, clock, access: new AccessControl({ store }) });
      const o = await service.overview([p.id], service.range({ from: '2026-02-25', to: '2026-02-27' }), 5);
      assert.deepEqual(
        o.storage.map((s) => s.day),
        ['2026-02-25', '2026-02-26', '2026-02-27'],
      );
      assert.deepEqual(
        o.storageByProject.map((s) => s.projectName),
        ['snap'],
      );
      assert.deepEqual(o.vulnerabilities[2], {
        day: '2026-02-27',
        critical: 0,
        high: 0,
        medium: 0,
        low: 0,
        unknown: 0,
      });
      await store.insights.setVulnerabilities('2026-02-26', p.id, {
        critical: 1,
        high: 2,
        medium: 3,
        low: 4,
        unknown: 5,
      });
      const v = await service.overview([p.id], service.range({ from: '2026-02-25', to: '2026-02-27' }), 5);
      assert.deepEqual(
        v.vulnerabilities.map((d) => d.high),
        [0, 2, 2],
      );
    });

    test('ranges: days back from to, from/to, and BAD_REQUEST for bad ones', () => {
      assert.deepEqual(resolveRange({}, '2026-03-31'), { from: '2026-03-02', to: '2026-03-31', days: 30 });
      assert.deepEqual(resolveRange({ days: 1, to: '2024-02-29' }, '2026-01-01'), {
        from: '2024-02-29',
        to: '2024-02-29',
        days: 1,
      });
      for (const q of [
        { from: '2026-02-30' },
        { from: '2026-3-1' },
        { from: '2026-03-05', to: '2026-03-01' },
        { from: '2026-03-01', days: 3 },
        { from: '2024-01-01', to: '2026-01-01' },
      ])
        assert.throws(() => resolveRange(q, '2026-03-31'), { code: 'BAD_REQUEST' }, JSON.stringify(q));
    });
  });
}
