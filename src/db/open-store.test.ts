import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, testDialects, type TestDatabase } from '../../test/helpers/databases.js';
import { waitFor } from '../../test/helpers/wait.js';
import { createLogger } from '../lib/logger.js';
import type { DbHandle } from './connect.js';
import { migrateToLatest } from './migrate.js';
import { openStore, type OpenStore } from './open-store.js';
import { ReadCache } from './read-cache.js';
import { MetaStore } from './store.js';

const now = '2026-12-05T12:00:00.000Z';

test('a read that was in flight when the cache was dropped is not kept', async () => {
  const cache = new ReadCache({ heard: true });
  let release!: () => void;
  const slow = cache.get('k', () => new Promise<string>((r) => (release = () => r('old'))));
  cache.drop();
  release();
  assert.equal(await slow, 'old');
  assert.equal(await cache.get('k', () => Promise.resolve('new')), 'new');
  assert.equal(await cache.get('k', () => Promise.resolve('newer')), 'new');
});

for (const dialect of testDialects()) {
  describe(`read cache over ${dialect}: two processes on one database`, () => {
    let database: TestDatabase;
    let handles: DbHandle[];
    let nodes: OpenStore[];
    let projectId: number;

    before(async () => {
      database = await createTestDatabase(dialect);
      handles = [database.open(), database.open()];
      await migrateToLatest(handles[0]!.db as never, dialect);
      const log = createLogger('silent');
      nodes = handles.map((h) => openStore(h, { url: database.url, log }));
      await waitFor('both caches to hear changes', () => nodes.every((n) => n.cache.live), 10_000);
      const [a] = nodes;
      projectId = (await a!.store.projectCatalog.create({
        name: 'cached',
        public: false,
        ownerId: null,
        now,
      }))!.id;
    });
    after(async () => {
      for (const n of nodes ?? []) await n.close();
      await database?.close();
    });

    test('a repeated read costs no statement', async () => {
      const [a] = nodes;
      const reads = async () => {
        assert.equal((await a!.store.projects.findByName('cached'))?.id, projectId);
        assert.deepEqual(await a!.store.notificationPolicies.enabledOf(projectId), []);
      };
      // On PostgreSQL the notification of the project's creation may still be on its way, and drops it.
      await waitFor(
        'a repeated read to be answered from memory',
        async () => {
          await reads();
          const before = handles[0]!.statements();
          await reads();
          return handles[0]!.statements() === before;
        },
        5000,
      );
    });

    test("another process's committed change is read by the next read", async (t) => {
      const [a, b] = nodes;
      const meta = async () => (await a!.store.projectCatalog.metadata([projectId])).get(projectId);
      assert.equal(await meta(), undefined);
      await b!.store.projectCatalog.putMetadata(projectId, { auto_scan: 'true' }, now);
      // SQLite sees it from the next turn of the event loop (data_version, looked at once per turn, as a
      // request's reads come in one); PostgreSQL once the notification has arrived.
      if (dialect === 'sqlite') {
        await new Promise((r) => setImmediate(r));
        return assert.equal((await meta())?.auto_scan, 'true');
      }
      const start = Date.now();
      await waitFor('the change to be read', async () => (await meta())?.auto_scan === 'true', 1000, 1);
      t.diagnostic(`read ${Date.now() - start} ms after the commit`);
    });

    test("another process's job bookkeeping keeps the cache; its write to a cached table drops it", async () => {
      const [a, b] = nodes;
      const reads = () => a!.store.projects.findByName('cached');
      const statements = async () => {
        const before = handles[0]!.statements();
        await reads();
        return handles[0]!.statements() - before;
      };
      await waitFor('the read to be answered from memory', async () => (await statements()) === 0, 5000);
      const drops = nodes[0]!.cache.figures.drops;
      // What the webhook delivery thread commits: jobs and their logs, on a connection of its own.
      const job = { kind: 'test.kept', payload: '{}', maxAttempts: 1, runAfter: now, executionId: null };
      await b!.store.jobs.insert({ ...job, groupKey: null }, now);
      assert.equal(await statements(), 0, 'a job row does not drop the cache');
      assert.equal(nodes[0]!.cache.figures.drops, drops);
      await b!.store.projectCatalog.putMetadata(projectId, { auto_scan: 'false' }, now);
      await waitFor('the project change to drop the cache', async () => (await statements()) > 0, 5000);
    });

    test('a transaction reads its own writes; a rollback leaves nothing of them cached', async () => {
      const [a] = nodes;
      const rules = () => a!.store.immutableRules.ofProject(projectId);
      assert.deepEqual(await rules(), []);
      await assert.rejects(
        a!.store.transaction(async (tx) => {
          await tx.immutableRules.create(
            projectId,
            {
              priority: 0,
              disabled: false,
              action: 'immutable',
              template: 'immutable_template',
              scopeSelectors: '{}',
              tagSelectors: '[]',
            },
            now,
          );
          assert.equal((await tx.immutableRules.ofProject(projectId)).length, 1);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual(await rules(), []);
    });

    test('a change made by this process is read at once, inside or outside a transaction', async () => {
      const [a] = nodes;
      await a!.store.transaction((tx) => tx.projectCatalog.putMetadata(projectId, { public: 'true' }, now));
      assert.equal((await a!.store.projectCatalog.metadata([projectId])).get(projectId)?.public, 'true');
      await a!.store.projectCatalog.deleteMetadata(projectId, 'public');
      assert.equal((await a!.store.projectCatalog.metadata([projectId])).get(projectId)?.public, undefined);
    });

    test('a read on another connection during a transaction is not kept past its commit (PostgreSQL)', async (t) => {
      // On SQLite a transaction holds the one connection, so no read can run beside it.
      if (dialect !== 'postgres') return t.skip('PostgreSQL only: SQLite runs nothing beside a transaction');
      // A cache that hears no notification (as if PostgreSQL's were still on its way): only the commit drops it.
      const store = new MetaStore(handles[0]!.db, new ReadCache({ heard: true }));
      const publicOf = async () => (await store.projectCatalog.metadata([projectId])).get(projectId)?.public;
      assert.equal(await publicOf(), undefined);
      await store.transaction(async (tx) => {
        await tx.projectCatalog.putMetadata(projectId, { public: 'false' }, now);
        assert.equal(await publicOf(), undefined, 'another connection sees the committed row, and keeps it');
      });
      assert.equal(
        await publicOf(),
        'false',
        'read at once after the commit, not when the notification comes',
      );
      await store.projectCatalog.deleteMetadata(projectId, 'public');
    });
  });
}
