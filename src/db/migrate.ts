import { sql, type Kysely } from 'kysely';
import type { Dialect } from './connect.js';
import { migrations, type MigrationList } from './migrations/index.js';

export interface MigrateResult {
  applied: string[];
}

const lockKey = 0x62657274; // 'bert': serialises migrations across nodes on PostgreSQL

/**
 * Applies pending migrations in name order, each in its own transaction together with its bookkeeping
 * row, so a failed upgrade leaves the database as the last good migration left it; the error names the
 * migration that failed. (Kysely's Migrator runs SQLite DDL outside transactions, hence our own loop.)
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: Dialect,
  /** Berth's own migrations unless given (tests pass a list with a failing step). */
  all: MigrationList = migrations(dialect),
): Promise<MigrateResult> {
  // Under the lock too: PostgreSQL's `create table if not exists` fails when two nodes race on it.
  await db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${lockKey})`.execute(trx);
    await sql`create table if not exists berth_migration (name varchar(255) primary key, applied_at varchar(32) not null)`.execute(
      trx,
    );
  });
  const applied: string[] = [];
  for (const name of Object.keys(all).sort()) {
    try {
      const done = await db.transaction().execute(async (trx) => {
        if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${lockKey})`.execute(trx);
        const seen = await sql<{
          name: string;
        }>`select name from berth_migration where name = ${name}`.execute(trx);
        if (seen.rows.length > 0) return false;
        await all[name]!.up(trx);
        await sql`insert into berth_migration (name, applied_at) values (${name}, ${new Date().toISOString()})`.execute(
          trx,
        );
        return true;
      });
      if (done) applied.push(name);
    } catch (err) {
      throw new Error(`migration ${name} failed, database left as before it: ${(err as Error).message}`);
    }
  }
  return { applied };
}
