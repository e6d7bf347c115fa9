import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../store.js';

const now = '2024-01-01T00:00:00.000Z';

for (const dialect of testDialects()) {
  describe(`ProjectRepo and RepositoryRepo on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    test('project ensure() is idempotent under 10 concurrent calls', async () => {
      const rows = await Promise.all(
        Array.from({ length: 10 }, () => store.transaction((tx) => tx.projects.ensure('racing', now))),
      );
      assert.equal(new Set(rows.map((r) => r.id)).size, 1);
      assert.equal(rows[0]!.name, 'racing');
      const direct = await Promise.all(
        Array.from({ length: 10 }, () => store.projects.ensure('racing', now)),
      );
      assert.deepEqual(new Set(direct.map((r) => r.id)), new Set([rows[0]!.id]));
    });

    test('repository ensure() is idempotent under 10 concurrent calls', async () => {
      const project = await store.projects.ensure('team', now);
      const rows = await Promise.all(
        Array.from({ length: 10 }, () =>
          store.transaction((tx) => tx.repositories.ensure(project.id, 'team/app', now)),
        ),
      );
      assert.equal(new Set(rows.map((r) => r.id)).size, 1);
      assert.equal(rows[0]!.project_id, project.id);
      assert.deepEqual(await store.repositories.listNames('team/', 10), ['team/app']);
    });

    test('catalog keyset pages list every repository once, in byte order', async () => {
      const project = await store.projects.ensure('cat', now);
      const names = ['cat/b', 'cat/a/z', 'cat/a', 'cat/a-b', 'cat/a.b', 'cat/a_b', 'cat/0'];
      for (const name of names) await store.repositories.ensure(project.id, name, now);
      const all = (await store.repositories.listNames(undefined, 1000)).filter((n) => n.startsWith('cat/'));
      assert.deepEqual(all, [...names].sort());
      const paged: string[] = [];
      let last: string | undefined = 'cat/';
      for (;;) {
        const page: string[] = (await store.repositories.listNames(last, 2)).filter((n) =>
          n.startsWith('cat/'),
        );
        paged.push(...page);
        if (page.length < 2) break;
        last = page.at(-1);
      }
      assert.deepEqual(paged, [...names].sort());
    });
  });
}
