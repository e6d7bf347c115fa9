import { sql, type Kysely } from 'kysely';
import type { Dialect } from './connect.js';
import { migrations, type MigrationList } from './migrations/index.js';

export interface MigrateResult {
  applied: string[];
}

/**
 * The database and this Berth disagree on the schema: it holds migrations this Berth does not know (a
 * newer Berth migrated it), or, when this node was told not to migrate, it lacks some. Start-up stops
 * with the message, which says what to do.
 */
export class SchemaVersionError extends Error {
  override name = 'SchemaVersionError';
}

const lockKey = 0x62657274; // 'bert': serialises migrations across nodes on PostgreSQL

/**
 * Applies pending migrations in name order, each in its own transaction together with its bookkeeping
 * row, so a failed upgrade leaves the database as the last good migration left it; the error names the
 * migration that failed. (Kysely's Migrator runs SQLite DDL outside transactions, hence our own loop.)
 * Nodes starting at once take turns: a PostgreSQL advisory lock, SQLite's write lock (`begin immediate`).
 * Refuses (SchemaVersionError) a database that a newer Berth has migrated.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: Dialect,
  /** Berth's own migrations unless given (tests pass a list with a failing step). */
  all: MigrationList = migrations(dialect),
): Promise<MigrateResult> {
  // Under the lock too: PostgreSQL's `create table if not exists` fails when two nodes race on it.
  await locked(db, dialect, async (trx) => {
    await sql`create table if not exists berth_migration (name varchar(255) primary key, applied_at varchar(32) not null)`.execute(
      trx,
    );
  });
  const known = Object.keys(all).sort();
  refuseNewer(await appliedMigrations(db), known);
  const applied: string[] = [];
  for (const name of known) {
    try {
      const done = await locked(db, dialect, async (trx) => {
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

/**
 * What a starting process does with the schema: migrate it (`database.migrate`, the default), logging
 * what was applied, or refuse to go on unless it is current.
 */
export async function prepareSchema(
  db: Kysely<unknown>,
  dialect: Dialect,
  migrate: boolean,
  log: { info(o: object, m: string): void },
): Promise<void> {
  if (!migrate) return assertSchemaCurrent(db, dialect);
  const { applied } = await migrateToLatest(db, dialect);
  if (applied.length > 0) log.info({ applied }, 'database migrated');
}

/**
 * For a node told not to migrate (`database.migrate: false`): throws SchemaVersionError unless the
 * database holds exactly the migrations this Berth knows.
 */
export async function assertSchemaCurrent(
  db: Kysely<unknown>,
  dialect: Dialect,
  all: MigrationList = migrations(dialect),
): Promise<void> {
  const known = Object.keys(all).sort();
  const applied = await appliedMigrations(db).catch((): string[] => []);
  refuseNewer(applied, known);
  const missing = known.filter((n) => !applied.includes(n));
  if (missing.length > 0)
    throw new SchemaVersionError(
      `the database schema lacks ${missing.length} migration(s) this Berth needs (up to ${missing.at(-1)}) ` +
        'and database.migrate is false: run `berth migrate` once, then start this node',
    );
}

async function appliedMigrations(db: Kysely<unknown>): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from berth_migration order by name`.execute(db);
  return rows.rows.map((r) => r.name);
}

function refuseNewer(applied: string[], known: string[]): void {
  const unknown = applied.filter((n) => !known.includes(n));
  if (unknown.length === 0) return;
  throw new SchemaVersionError(
    `the database schema is at migration ${unknown.at(-1)} but this Berth knows up to ${known.at(-1)}: ` +
      'upgrade Berth on this node (every node of a cluster must run the same or a newer release)',
  );
}

/** Runs `fn` in a transaction that holds the cluster-wide migration lock. */
async function locked<T>(
  db: Kysely<unknown>,
  dialect: Dialect,
  fn: (trx: Kysely<unknown>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres')
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${lockKey})`.execute(trx);
      return fn(trx);
    });
  // A deferred `begin` would read, then fail with SQLITE_BUSY when another process wrote meanwhile;
  // `begin immediate` takes the write lock first (waiting up to the busy timeout).
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
  });
}
