import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { digestOf } from '../../oci/digest.js';
import type { DbHandle } from '../connect.js';
import type { MetaStore } from '../store.js';
import { LayerInventoryRepo } from './layer-inventories.js';

const now = '2026-12-06T00:00:00.000Z';

for (const dialect of testDialects()) {
  describe(`LayerInventoryRepo: layer readings kept by digest and version, on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let handle: DbHandle;
    let repo: LayerInventoryRepo;
    let project: number;
    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      // The scanning process writes over a connection of its own.
      handle = database.open();
      repo = new LayerInventoryRepo(handle.db);
      project = (await store.projects.ensure('readings', now)).id;
    });
    after(() => database.close());

    test('stores a reading of a live blob, answers it for its version only, and replaces it', async () => {
      const digest = digestOf('layer-live');
      await store.blobs.link(project, digest, 10, now);
      assert.equal(await repo.put(digest, 'r1;gzip', '{"files":[]}', now), true);
      assert.equal(await repo.get(digest, 'r1;gzip'), '{"files":[]}');
      assert.equal(await repo.get(digest, 'r2;gzip'), undefined);
      // A large reading is stored gzipped and read back whole.
      const large = JSON.stringify({ files: [['var/lib/dpkg/status', 'x'.repeat(200_000)]] });
      assert.equal(await repo.put(digest, 'r2;gzip', large, now), true);
      assert.equal(await repo.get(digest, 'r2;gzip'), large);
      assert.equal(await repo.get(digest, 'r1;gzip'), undefined);
      const stored = await handle.db
        .selectFrom('layer_inventory')
        .select('reading')
        .where('digest', '=', digest)
        .executeTakeFirstOrThrow();
      assert.ok(stored.reading.startsWith('gzip:') && stored.reading.length < 10_000);
    });

    test('stores nothing for a blob that is not stored or that garbage collection has marked', async () => {
      const count = await repo.count();
      assert.equal(await repo.put(digestOf('layer-unknown'), 'r1;gzip', '{}', now), false);
      const marked = digestOf('layer-marked');
      await store.blobs.link(project, marked, 10, now);
      await handle.db.updateTable('blob').set({ gc_mark: now }).where('digest', '=', marked).execute();
      assert.equal(await repo.put(marked, 'r1;gzip', '{}', now), false);
      assert.equal(await repo.count(), count);
    });

    test("garbage collection's removal of a blob removes its reading, and only its", async () => {
      const [gone, kept] = [digestOf('layer-gone'), digestOf('layer-kept')];
      for (const d of [gone, kept]) {
        await store.blobs.link(project, d, 10, now);
        assert.ok(await repo.put(d, 'r1;gzip', '{}', now));
      }
      const count = await repo.count();
      await handle.db.updateTable('blob').set({ gc_mark: now }).where('digest', '=', gone).execute();
      await store.gc.removeMarked(gone);
      assert.equal(await repo.get(gone, 'r1;gzip'), undefined);
      assert.equal(await repo.get(kept, 'r1;gzip'), '{}');
      assert.equal(await repo.count(), count - 1);
    });
  });
}
