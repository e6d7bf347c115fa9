import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { digestOf } from '../../oci/digest.js';
import type { MetaStore } from '../store.js';

const now = '2024-01-01T00:00:00.000Z';

for (const dialect of testDialects()) {
  describe(`BlobRepo on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    test('missingInProject lists, in the given order, the digests not linked to that project', async () => {
      const one = await store.projects.ensure('one', now);
      const two = await store.projects.ensure('two', now);
      const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((s) => digestOf(`missing-${s}`)) as [
        string,
        string,
        string,
        string,
      ];
      await store.blobs.link(one.id, a, 1, now);
      await store.blobs.link(one.id, c, 3, now);
      await store.blobs.link(two.id, b, 2, now);
      assert.deepEqual(await store.blobs.missingInProject(one.id, [d, a, b, c]), [d, b]);
      assert.deepEqual(await store.blobs.missingInProject(two.id, [a, b]), [a]);
      assert.deepEqual(await store.blobs.missingInProject(one.id, [a, c, a]), []);
      assert.deepEqual(await store.blobs.missingInProject(one.id, []), []);
      assert.equal(await store.blobs.sizeInProject(one.id, c), 3);
      assert.equal(await store.blobs.sizeInProject(two.id, c), undefined);
    });

    test('link is idempotent, also under 10 concurrent calls across projects', async () => {
      const digest = digestOf('shared-layer');
      const projects = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.projects.ensure(`linker${i}`, now)),
      );
      await Promise.all(
        projects.flatMap((p) => [
          store.transaction((tx) => tx.blobs.link(p.id, digest, 42, now)),
          store.transaction((tx) => tx.blobs.link(p.id, digest, 42, now)),
        ]),
      );
      for (const p of projects) assert.equal(await store.blobs.sizeInProject(p.id, digest), 42);
      assert.equal(await store.blobs.exists(digest), true);
      assert.equal(await store.blobs.unlink(projects[0]!.id, digest), true);
      assert.equal(await store.blobs.unlink(projects[0]!.id, digest), false);
      assert.equal(await store.blobs.sizeInProject(projects[0]!.id, digest), undefined);
      assert.equal(await store.blobs.sizeInProject(projects[1]!.id, digest), 42, 'other projects keep it');
      assert.equal(await store.blobs.unlink(projects[0]!.id, digestOf('never-seen')), false);
    });
    test("GC's fence: a writer's version bump defeats a stale mark, and a marked blob is neither linked nor referenced", async () => {
      const p = await store.projects.ensure('fence', now);
      const later = '2024-01-01T00:00:01.000Z';
      const [a, b] = [digestOf('fence-a'), digestOf('fence-b')];
      await store.blobs.link(p.id, a, 1, now);
      await store.blobs.link(p.id, b, 2, now);
      const rule = { cutoff: '2024-01-02T00:00:00.000Z' };
      const seen = (await store.gc.unreferenced(rule, 'garbage', 0, 100)).filter((x) =>
        [a, b].includes(x.digest),
      );
      assert.equal(seen.length, 2);
      // A manifest PUT references `a` after GC examined it: GC's mark at the old version misses it.
      assert.deepEqual(await store.blobs.reference(p.id, [a], later), []);
      const marked = await store.gc.mark(seen, later);
      assert.deepEqual(
        marked.map((x) => x.digest),
        [b],
      );
      // While marked, `b` is invisible to pulls, cannot be linked, referenced or reserved.
      assert.equal(await store.blobs.sizeInProject(p.id, b), undefined);
      assert.deepEqual(await store.blobs.missingInProject(p.id, [a, b]), [b]);
      await assert.rejects(store.blobs.link(p.id, b, 2, later), { code: 'UNAVAILABLE' });
      assert.deepEqual(await store.blobs.reference(p.id, [a, b], later), [b]);
      assert.deepEqual(await store.blobs.reserve(b, 2, later), { reserved: false, mark: later });
      await store.gc.remove(marked.map((x) => x.id));
      assert.deepEqual(await store.blobs.reserve(b, 2, later), { reserved: true });
      // Re-created by the writer: recent and unreferenced, so kept for the grace period.
      const recent = await store.gc.unreferenced({ cutoff: now }, 'recent', 0, 100);
      assert.ok(recent.some((x) => x.digest === b));
    });
  });
}
