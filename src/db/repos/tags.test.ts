import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  addArtifact,
  createTestStore,
  testDialects,
  type TestDatabase,
} from '../../../test/helpers/databases.js';
import type { MetaStore } from '../store.js';

const now = '2024-01-01T00:00:00.000Z';

for (const dialect of testDialects()) {
  describe(`TagRepo on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    let seq = 0;
    async function repoWithArtifact(name = `proj/repo${seq++}`) {
      const project = await store.projects.ensure(name.split('/')[0]!, now);
      const repo = await store.repositories.ensure(project.id, name, now);
      const artifact = await artifactIn(repo.id, 'a');
      return { repo, artifact };
    }
    const artifactIn = (repositoryId: number, seed: string) => addArtifact(store, repositoryId, seed, now);

    test('keyset pages list every tag once, in byte order', async () => {
      const { repo, artifact } = await repoWithArtifact();
      const other = await repoWithArtifact();
      await store.tags.put(other.repo.id, 'zzz-other-repo', other.artifact.id, now);
      const names = ['latest', 'v1', 'v10', 'v2', 'A', '_b', '1.0', 'a-b', 'a.b', 'a_b', 'Z9', 'b', 'B'];
      for (const name of names) await store.tags.put(repo.id, name, artifact.id, now);
      const expected = [...names].sort();

      assert.deepEqual(await store.tags.listNames(repo.id, undefined, 100), expected);
      const paged: string[] = [];
      let last: string | undefined;
      for (;;) {
        const page = await store.tags.listNames(repo.id, last, 4);
        paged.push(...page);
        if (page.length < 4) break;
        last = page.at(-1);
      }
      assert.deepEqual(paged, expected);
      assert.deepEqual(await store.tags.listNames(repo.id, undefined, 3), expected.slice(0, 3));
      assert.deepEqual(await store.tags.listNames(repo.id, 'v1', 10), ['v10', 'v2']);
      assert.deepEqual(await store.tags.listNames(repo.id, 'l', 2), ['latest', 'v1'], 'last need not exist');
      assert.deepEqual(await store.tags.listNames(repo.id, 'v2', 10), []);
    });

    test('put moves an existing tag; delete says whether it removed one', async () => {
      const { repo, artifact } = await repoWithArtifact();
      const second = await artifactIn(repo.id, 'second');
      await store.tags.put(repo.id, 'moving', artifact.id, now);
      await store.tags.put(repo.id, 'moving', second.id, '2024-02-01T00:00:00.000Z');
      assert.equal((await store.artifacts.findByTag(repo.id, 'moving'))?.id, second.id);
      assert.deepEqual(await store.tags.listNames(repo.id, undefined, 10), ['moving']);
      assert.equal(await store.tags.delete(repo.id, 'moving'), true);
      assert.equal(await store.tags.delete(repo.id, 'moving'), false);
      assert.equal(await store.artifacts.findByTag(repo.id, 'moving'), undefined);
    });

    test('concurrent puts of one tag leave exactly one tag row', async () => {
      const { repo } = await repoWithArtifact();
      const artifacts = await Promise.all(Array.from({ length: 10 }, (_, i) => artifactIn(repo.id, `c${i}`)));
      await Promise.all(
        artifacts.map((a) => store.transaction((tx) => tx.tags.put(repo.id, 'contended', a.id, now))),
      );
      assert.deepEqual(await store.tags.listNames(repo.id, undefined, 100), ['contended']);
      const winner = await store.artifacts.findByTag(repo.id, 'contended');
      assert.ok(artifacts.some((a) => a.id === winner?.id));
    });
  });
}
