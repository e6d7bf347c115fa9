import { sql, type Kysely } from 'kysely';
import { tablesAt0025 } from './0025_notify_watched_table_changes.js';
import type { MigrationContext } from './index.js';

/**
 * Issue 18: on SQLite a process learns that another connection committed through `PRAGMA data_version`,
 * which moves on every commit, so the webhook delivery thread's job bookkeeping (another connection of
 * the same process) dropped the serving thread's read cache tens of times a second. These triggers count
 * the writes to the cached tables in `cache_epoch`; a process whose `data_version` moved reads that one
 * row and drops its cache only when the count moved too (db/open-store.ts).
 *
 * PostgreSQL has the table too (one schema on both) but needs no trigger: migration 0025 notifies.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('cache_epoch')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into cache_epoch (id, n) values (1, 0)`.execute(db);
  if (dialect !== 'sqlite') return;
  // The tables migration 0025 watches on PostgreSQL.
  for (const table of tablesAt0025)
    for (const op of ['insert', 'update', 'delete'])
      await sql
        .raw(
          `create trigger ${table}_${op}_counted after ${op} on ${table} ` +
            'begin update cache_epoch set n = n + 1 where id = 1; end',
        )
        .execute(db);
}
