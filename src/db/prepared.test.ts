import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, testDialects, type TestDatabase } from '../../test/helpers/databases.js';
import type { DbHandle } from './connect.js';
import { migrateToLatest } from './migrate.js';
import { prepared } from './prepared.js';

const now = '2024-01-01T00:00:00.000Z';

const insertLabels = prepared((db, names: readonly string[], scope: 'g' | 'p', time: string) =>
  db
    .insertInto('label')
    .values(
      names.map((name) => ({
        name,
        description: '',
        color: '#000000',
        scope,
        project_id: 0,
        creation_time: time,
        update_time: time,
      })),
    )
    .returning(['name', 'scope']),
);
const labelsNamed = prepared((db, names: readonly string[], scope: 'g' | 'p') =>
  db.selectFrom('label').select('name').where('name', 'in', names).where('scope', '=', scope).orderBy('name'),
);
const renameProject = prepared((db, from: string, to: string) =>
  db.updateTable('project').set({ name: to }).where('name', '=', from),
);

for (const dialect of testDialects()) {
  describe(`prepared queries on ${dialect}`, () => {
    let database: TestDatabase;
    let handle: DbHandle;
    before(async () => {
      database = await createTestDatabase(dialect);
      handle = database.open();
      await migrateToLatest(handle.db as never, dialect);
    });
    after(() => database.close());

    test('compile once per shape and bind each call its own values, lists of any length included', async () => {
      const db = handle.db;
      const first = await insertLabels(db, ['a', 'b'], 'g', now);
      assert.deepEqual(first.rows, [
        { name: 'a', scope: 'g' },
        { name: 'b', scope: 'g' },
      ]);
      const before = handle.statements();
      await insertLabels(db, ['c', 'd'], 'g', now);
      await insertLabels(db, ['e'], 'g', now);
      assert.equal(handle.statements() - before, 2, 'one statement each, shapes two and one');
      assert.deepEqual((await labelsNamed(db, ['a', 'e', 'x'], 'g')).rows, [{ name: 'a' }, { name: 'e' }]);
      assert.deepEqual((await labelsNamed(db, ['c'], 'g')).rows, [{ name: 'c' }]);
      assert.deepEqual((await labelsNamed(db, ['c'], 'p')).rows, []);
      // In a transaction, rolled back with it.
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await insertLabels(trx, ['t1', 't2'], 'g', now);
          assert.equal((await labelsNamed(trx, ['t1', 't2'], 'g')).rows.length, 2);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual((await labelsNamed(db, ['t1', 't2'], 'g')).rows, []);
    });

    test('refuse to write a table the read cache watches', async () => {
      await assert.rejects(renameProject(handle.db, 'a', 'b'), /read cache watches/);
    });
  });
}
