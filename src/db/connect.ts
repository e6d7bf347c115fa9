import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  sql,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely';
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { AppError } from '../lib/errors.js';
import { Checkpointer, servingAutoCheckpointPages, type CheckpointFigures } from './checkpointer.js';
import type { Database } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DbHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Statements sent to the database so far (transaction begin and commit included). */
  statements(): number;
  /**
   * SQLite only: milliseconds this connection waited for the write lock another connection held (a
   * delivery or scan thread, another process), and how many of its statements waited.
   */
  lockWaits?: () => { ms: number; count: number };
  /**
   * SQLite only: SQLite's `data_version`, which moves when another connection (another process sharing
   * the file) commits. Read without a round trip.
   */
  dataVersion?: () => number;
  /**
   * SQLite only: how many writes the cached tables have had (migration 0026's `cache_epoch`), read
   * without a round trip; NaN before that migration ran.
   */
  cacheEpoch?: () => number;
  /** SQLite, with `checkpointThread`: what the checkpointing thread did (db/checkpointer.ts). */
  checkpoints?: () => CheckpointFigures;
  close(): Promise<void>;
}

/**
 * The page cache of a thread's or scanning process's own SQLite connection (webhook deliveries, scans):
 * SQLite's stock 2 MiB. Background work; its memory counts in the same process as the serving connection's.
 */
export const sideConnectionCacheKiB = 2048;

/** One round trip to the database (the health check's question: does it answer?). */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

export interface ConnectOptions {
  url: string;
  poolMax: number;
  acquireTimeoutMs: number;
  /**
   * SQLite only: the most this connection's page cache may hold, in KiB. better-sqlite3 builds SQLite with
   * 16 MiB per connection (SQLite's own default is 2 MiB), which a connection reading a large table fills
   * and keeps: the scan thread's over the vulnerability database, beside the serving connection's own.
   * Unset: the build's default. The serving connection takes `database.sqliteCacheMb`.
   */
  cacheKiB?: number;
  /**
   * SQLite file only: checkpoint the WAL on a thread of its own once it has grown (db/checkpointer.ts),
   * not in this connection's commits. The serving process's connection; side connections leave it unset.
   */
  checkpointThread?: { onError?: (err: unknown) => void };
}

/**
 * A prepared statement's memory in SQLite, estimated from its parameters: measured with better-sqlite3,
 * ~4 KiB for a statement and ~80 bytes per parameter (a register and its ops; a 500-row insert of 10
 * columns holds 390 KiB).
 */
export function statementBytes(sql: string): number {
  let params = 0;
  for (let i = sql.indexOf('?'); i >= 0; i = sql.indexOf('?', i + 1)) params++;
  return 4096 + 80 * params;
}

/**
 * Statements larger than this are prepared for each use and not kept: batched inserts (the audit log's,
 * a few hundred rows at a time) have a new shape at nearly every flush, and kept, each shape held its
 * hundreds of KiB for the process's life: 75 audit inserts of 346,000 parameters in all, ~28 MiB of
 * glibc's heap, after the bench's load row (issue 15). Preparing one again costs about a millisecond
 * (1.2 ms for 500 rows), once per batch.
 */
export const statementCacheEntryBytes = 64 * 2 ** 10;

/**
 * Kysely prepares every query anew, and compiling the SQL was the largest self-time item on the
 * manifest GET path (bench/profile-top.ts). Prepared statements are reused per SQL text, up to 1,000
 * of them and 8 MiB by `statementBytes` (the requests' own statements take ~1-2 MiB); a statement
 * still iterating (a streamed query) is never handed out twice.
 */
export function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const statements = new LRUCache<string, BetterSqlite3.Statement>({
    max: 1000,
    maxSize: 8 * 2 ** 20,
    maxEntrySize: statementCacheEntryBytes,
    sizeCalculation: (_stmt, sql) => statementBytes(sql),
  });
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = statements.get(sql);
      if (!stmt || stmt.busy) {
        stmt = sqlite.prepare(sql);
        statements.set(sql, stmt); // not kept when over `statementCacheEntryBytes`
      }
      return stmt;
    },
  };
}

/** What a connection's statements waited for the write lock. */
interface LockWaits {
  ms: number;
  count: number;
}

/**
 * SQLite shared by several connections (a delivery or scan thread, `serve --workers`, `berth worker`
 * beside `serve`). A deferred `begin` that reads and then writes fails at once with SQLITE_BUSY when
 * another connection wrote in between (the busy timeout does not apply to that upgrade), so transactions
 * take the write lock first (`begin immediate`). A statement that finds the lock taken waits for it
 * here, on timers, rather than in SQLite's busy handler: that one sleeps the whole thread (1, 2, 5, 10 ms
 * …), so each time the webhook thread committed while a push wanted the lock, the serving event loop
 * stood still for a millisecond or more, with requests ready to run. A BUSY statement did nothing, so it
 * is simply run again; after `handOnAfterMs` of waiting the connection serves the process's reads
 * meanwhile (`waitForLock`). Within one process nothing changes: Kysely runs one transaction at a time on
 * its single connection. A lock still held when `timeoutMs` ends is answered 503 with Retry-After, as a full
 * PostgreSQL pool is.
 */
/** How long a statement waits for SQLite's write lock holding the connection before it hands it on. */
const handOnAfterMs = 10;

class SharedSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly timeoutMs: number,
    private readonly waits: LockWaits,
    private readonly sqlite: Pick<BetterSqlite3.Database, 'inTransaction'>,
  ) {
    super(config);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    return {
      executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
        let waitingSince: number | undefined;
        try {
          for (;;) {
            try {
              return await connection.executeQuery<R>(query);
            } catch (err) {
              if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') throw err;
              const now = performance.now();
              if (waitingSince === undefined) {
                waitingSince = now;
                this.waits.count++;
              } else if (now - waitingSince >= this.timeoutMs) {
                throw new AppError('UNAVAILABLE', 'the database is busy; retry shortly');
              }
              await this.waitForLock(now - waitingSince >= handOnAfterMs);
            }
          }
        } finally {
          if (waitingSince !== undefined) this.waits.ms += performance.now() - waitingSince;
        }
      },
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
  }

  /**
   * A millisecond's wait before a BUSY statement runs again. Outside a transaction (its `begin
   * immediate`, or a statement on its own) the connection is handed on meanwhile: Kysely runs one thing
   * at a time on it, so a write waiting for the lock held queued every read of the process behind it,
   * and a scanning process at nice 19 holding the lock for its report (preempted by the very requests
   * that waited) stopped every pull's lookups for the rest of its transaction (issue 17). Reads need no
   * lock in WAL mode and go on; inside a transaction the connection stays the transaction's. Only once
   * the wait passed `handOnAfterMs`: a statement handed on queues again behind everything that came
   * meanwhile, so handing on at once made each of the webhook thread's short commits cost a push 4x
   * longer lock waits (webhooks row: 0.40 waits and 4-9 ms per push, against 0.1 and 0.4-0.7 ms).
   */
  private async waitForLock(longWait: boolean): Promise<void> {
    const handOn = longWait && !this.sqlite.inTransaction;
    if (handOn) await super.releaseConnection();
    try {
      await new Promise((r) => setTimeout(r, 1));
    } finally {
      if (handOn) await super.acquireConnection();
    }
  }
}

class SharedSqliteDialect extends SqliteDialect {
  constructor(
    private readonly sqliteConfig: SqliteDialectConfig,
    private readonly timeoutMs: number,
    private readonly waits: LockWaits,
    private readonly sqlite: Pick<BetterSqlite3.Database, 'inTransaction'>,
  ) {
    super(sqliteConfig);
  }

  override createDriver(): Driver {
    return new SharedSqliteDriver(this.sqliteConfig, this.timeoutMs, this.waits, this.sqlite);
  }
}

/** The dialect comes from the URL scheme: sqlite:<file> or postgres://. */
export function connect(options: ConnectOptions): DbHandle {
  let statements = 0;
  const log = () => void statements++;
  if (options.url.startsWith('sqlite:')) {
    const file = options.url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    const waits: LockWaits = { ms: 0, count: 0 };
    const sqlite = new BetterSqlite3(file, { timeout: options.acquireTimeoutMs });
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    if (options.cacheKiB !== undefined) sqlite.pragma(`cache_size = -${options.cacheKiB}`);
    // SQLite copies the WAL back into the database (a checkpoint: two fsyncs and the pages) in the commit
    // that takes the WAL past this many pages, on the event loop. A manifest PUT writes ~28 pages, so the
    // default (1000) checkpointed every ~35 PUTs, and those commits were 45 % of all commit time (issue
    // 15, traced at load 14). 8000 pages (32 MiB of WAL) checkpoints 8 times less often, and a page
    // written by many commits in between (sequence, repository, quota, the tails of the tables) is
    // copied once.
    // While a checkpointing thread runs (`checkpointThread`) this connection checkpoints only as a fallback.
    sqlite.pragma(`wal_autocheckpoint = ${servingAutoCheckpointPages}`);
    // From here on no busy handler: a statement that finds the write lock taken waits in SharedSqliteDriver.
    sqlite.pragma('busy_timeout = 0');
    const db = new Kysely<Database>({
      dialect: new SharedSqliteDialect(
        { database: withStatementCache(sqlite) },
        options.acquireTimeoutMs,
        waits,
        sqlite,
      ),
      log,
    });
    const dataVersion = sqlite.prepare('pragma data_version').pluck();
    let epoch: BetterSqlite3.Statement | undefined;
    const cacheEpoch = () => {
      try {
        epoch ??= sqlite.prepare('select n from cache_epoch where id = 1').pluck();
        return Number(epoch.get());
      } catch {
        return NaN;
      }
    };
    const checkpointer =
      options.checkpointThread && file !== ':memory:' && file !== ''
        ? new Checkpointer({
            file: resolve(file),
            setAutoCheckpoint: (pages) => {
              if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${pages}`);
            },
            ...(options.checkpointThread.onError ? { onError: options.checkpointThread.onError } : {}),
          })
        : undefined;
    return {
      db,
      dialect: 'sqlite',
      statements: () => statements,
      lockWaits: () => ({ ...waits }),
      dataVersion: () => dataVersion.get() as number,
      cacheEpoch,
      ...(checkpointer ? { checkpoints: () => checkpointer.counts() } : {}),
      close: async () => {
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  }
  // pg loads only for a postgres:// URL: an SQLite node never holds its ~10 MiB of modules.
  const pg = createRequire(import.meta.url)('pg') as typeof import('pg');
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.acquireTimeoutMs,
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        // int8 (counts, sizes) as numbers; Berth's values stay below 2^53.
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
    },
  });
  // An idle connection dies when PostgreSQL restarts or fails over; the pool drops it and opens a new one
  // on demand. Without a listener the pool's 'error' event would end the process.
  pool.on('error', () => {});
  // A bounded pool: when every connection is busy for acquireTimeoutMs the caller gets UNAVAILABLE
  // (HTTP 503 with Retry-After) instead of waiting without end. So does a database that cannot be
  // reached, or that drops the connection mid-query (restart, failover): the client retries later.
  const guarded = {
    connect: async () => {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        if (/timeout/i.test((err as Error).message)) {
          throw new AppError('UNAVAILABLE', 'the database is busy; retry shortly');
        }
        throw unreachable(err);
      }
      return guardQueries(client);
    },
    end: () => pool.end(),
  };
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: guarded }), log });
  return { db, dialect: 'postgres', statements: () => statements, close: () => db.destroy() };
}

const guardedClients = new WeakSet<pg.PoolClient>();

/** Turns the connection-loss errors of a pooled client into UNAVAILABLE answers (set up once per client). */
function guardQueries(client: pg.PoolClient): pg.PoolClient {
  if (guardedClients.has(client)) return client;
  guardedClients.add(client);
  // A connection lost while checked out between two queries (inside a transaction) emits 'error' on the
  // client, which the pool listens to only while the client is idle; unheard, it would end the process.
  // The next query fails instead, and the pool discards the client on release.
  client.on('error', () => {});
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    return result instanceof Promise
      ? result.catch((err: unknown) => Promise.reject(unreachable(err)))
      : result;
  };
  return client;
}

// Connection refused or reset, and PostgreSQL's admin_shutdown, crash_shutdown, cannot_connect_now and
// connection_exception classes: the database is restarting or out of reach, not the query at fault.
const lostConnection =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|57P0[123]|08\w{3})$/;

function unreachable(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (lostConnection.test(code) || /Connection terminated|connection error|not queryable/i.test(message))
    return new AppError('UNAVAILABLE', 'the database is unreachable; retry shortly');
  return err;
}
