import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { digestOf } from '../../oci/digest.js';
import type { MetaStore } from '../store.js';
import type { NewArtifact } from '../tables.js';

const now = '2024-01-01T00:00:00.000Z';

for (const dialect of testDialects()) {
  describe(`ArtifactRepo on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    let seq = 0;
    async function repository() {
      const project = await store.projects.ensure('art', now);
      return store.repositories.ensure(project.id, `art/repo${seq++}`, now);
    }
    function values(repositoryId: number, seed: string, extra: Partial<NewArtifact> = {}): NewArtifact {
      return {
        repository_id: repositoryId,
        digest: digestOf(seed),
        media_type: 'application/vnd.oci.image.manifest.v1+json',
        artifact_type: null,
        manifest_size: 100,
        size: 1000,
        subject_digest: null,
        config_digest: null,
        annotations: null,
        push_time: now,
        pull_time: null,
        ...extra,
      };
    }
    async function count(
      table: 'artifact' | 'artifact_blob' | 'artifact_reference',
      column: string,
      id: number,
    ) {
      const row = await sql<{
        n: number | string;
      }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} = ${id}`.execute(
        database.open(1).db,
      );
      return Number(row.rows[0]!.n);
    }

    test('ensure() is idempotent under 10 concurrent pushes of one manifest', async () => {
      const repo = await repository();
      const blobs = [digestOf('config'), digestOf('layer'), digestOf('layer')];
      const rows = await Promise.all(
        Array.from({ length: 10 }, () =>
          store.transaction((tx) => tx.artifacts.ensure(values(repo.id, 'same'), blobs, [])),
        ),
      );
      assert.equal(new Set(rows.map((r) => r.id)).size, 1);
      assert.equal(await count('artifact', 'repository_id', repo.id), 1);
      assert.equal(await count('artifact_blob', 'artifact_id', rows[0]!.id), 2);
      const again = await store.artifacts.ensure(values(repo.id, 'same', { size: 5 }), blobs, []);
      assert.equal(again.id, rows[0]!.id);
      assert.equal(again.size, 1000, 'the first row stands');
    });

    test('an index records each child once, and parents() finds it', async () => {
      const repo = await repository();
      const amd = await store.artifacts.ensure(values(repo.id, 'amd64'), [], []);
      const arm = await store.artifacts.ensure(values(repo.id, 'arm64'), [], []);
      const link = (a: typeof amd, platform: string) => ({ childId: a.id, childDigest: a.digest, platform });
      const index = await store.artifacts.ensure(
        values(repo.id, 'index', { media_type: 'application/vnd.oci.image.index.v1+json' }),
        [],
        [link(amd, '{"architecture":"amd64"}'), link(arm, '{"architecture":"arm64"}'), link(amd, 'dup')],
      );
      assert.equal(await count('artifact_reference', 'parent_id', index.id), 2);
      assert.deepEqual(await store.artifacts.parents(amd.id), [index.digest]);
      assert.deepEqual(await store.artifacts.missing(repo.id, [amd.digest, digestOf('nope'), arm.digest]), [
        digestOf('nope'),
      ]);
    });

    test('referrers() lists artifacts with that subject in push order, filtered by artifact type', async () => {
      const repo = await repository();
      const otherRepo = await repository();
      const subject = digestOf('subject');
      const sig = await store.artifacts.ensure(
        values(repo.id, 'sig', { subject_digest: subject, artifact_type: 'application/vnd.dev.cosign' }),
        [],
        [],
      );
      const sbom = await store.artifacts.ensure(
        values(repo.id, 'sbom', { subject_digest: subject, artifact_type: 'application/spdx+json' }),
        [],
        [],
      );
      const untyped = await store.artifacts.ensure(
        values(repo.id, 'untyped', { subject_digest: subject }),
        [],
        [],
      );
      const sig2 = await store.artifacts.ensure(
        values(repo.id, 'sig2', { subject_digest: subject, artifact_type: 'application/vnd.dev.cosign' }),
        [],
        [],
      );
      await store.artifacts.ensure(
        values(repo.id, 'unrelated', { subject_digest: digestOf('other') }),
        [],
        [],
      );
      await store.artifacts.ensure(
        values(otherRepo.id, 'sig', { subject_digest: subject, artifact_type: 'application/vnd.dev.cosign' }),
        [],
        [],
      );
      const ids = (rows: { id: number }[]) => rows.map((r) => r.id);
      assert.deepEqual(ids(await store.artifacts.referrers(repo.id, subject)), [
        sig.id,
        sbom.id,
        untyped.id,
        sig2.id,
      ]);
      assert.deepEqual(ids(await store.artifacts.referrers(repo.id, subject, 'application/vnd.dev.cosign')), [
        sig.id,
        sig2.id,
      ]);
      assert.deepEqual(ids(await store.artifacts.referrers(repo.id, subject, 'application/spdx+json')), [
        sbom.id,
      ]);
      assert.deepEqual(await store.artifacts.referrers(repo.id, subject, 'application/none'), []);
      assert.deepEqual(await store.artifacts.referrers(repo.id, digestOf('no-referrers')), []);
    });
  });
}
