import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { connect, statementBytes, statementCacheEntryBytes, withStatementCache } from './connect.js';

// SQLite only: PostgreSQL has no database-wide write lock.
test('SQLite: reads go on while a write waits for the lock another connection holds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-connect-'));
  const file = join(dir, 'berth.db');
  const handle = connect({ url: `sqlite:${file}`, poolMax: 1, acquireTimeoutMs: 10_000 });
  const other = new BetterSqlite3(file);
  try {
    await sql`create table t (x integer)`.execute(handle.db);
    await sql`insert into t (x) values (1)`.execute(handle.db);
    // Another connection (a scanning process writing its report) holds the write lock.
    other.exec('begin immediate');
    other.exec('insert into t (x) values (2)');
    let written = false;
    const write = handle.db
      .transaction()
      .execute(async (trx) => {
        await sql`insert into t (x) values (3)`.execute(trx);
      })
      .then(() => (written = true));
    const alone = sql`insert into t (x) values (4)`.execute(handle.db);
    // The reads are answered meanwhile, from the last commit, without waiting for the writes.
    const read = await Promise.race([
      sql<{ n: number }>`select count(*) as n from t`.execute(handle.db),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000).unref()),
    ]);
    assert.equal(read?.rows[0]?.n, 1, 'the read waited for the write lock');
    assert.equal(written, false);
    assert.ok(handle.lockWaits!().count >= 2);
    other.exec('commit');
    await write;
    await alone;
    const after = await sql<{ n: number }>`select count(*) as n from t`.execute(handle.db);
    assert.equal(after.rows[0]!.n, 4);
  } finally {
    other.close();
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SQLite: the connection takes the page cache it is given, and the build default without one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-connect-'));
  const sized = connect({
    url: `sqlite:${join(dir, 'a.db')}`,
    poolMax: 1,
    acquireTimeoutMs: 1000,
    cacheKiB: 3072,
  });
  const stock = connect({ url: `sqlite:${join(dir, 'b.db')}`, poolMax: 1, acquireTimeoutMs: 1000 });
  try {
    const size = async (h: typeof sized) =>
      (await sql<{ cache_size: number }>`pragma cache_size`.execute(h.db)).rows[0]?.cache_size;
    assert.equal(await size(sized), -3072);
    // better-sqlite3 builds SQLite with 16 MiB (SQLITE_DEFAULT_CACHE_SIZE=-16000).
    assert.equal(await size(stock), -16000);
  } finally {
    await sized.close();
    await stock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SQLite statement cache: small statements are kept, batch inserts are not, and the cache holds at most 8 MiB by estimate', () => {
  const sqlite = new BetterSqlite3(':memory:');
  const prepared: string[] = [];
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    prepared.push(source);
    return prepare(source);
  }) as typeof sqlite.prepare;
  try {
    sqlite.exec('create table t (a, b, c, d, e, f, g, h, i, j)');
    const cache = withStatementCache(sqlite);
    const rowsOf = (n: number) =>
      `insert into t values ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
    const small = 'select count(*) from t where a = ?';
    for (let i = 0; i < 3; i++) cache.prepare(small);
    assert.equal(prepared.filter((s) => s === small).length, 1, 'a small statement is prepared once');

    // An audit batch of 500 rows (5,000 parameters, ~400 KiB in SQLite) is prepared for each use.
    const batch = rowsOf(500);
    assert.ok(statementBytes(batch) > statementCacheEntryBytes);
    for (let i = 0; i < 3; i++) cache.prepare(batch);
    assert.equal(prepared.filter((s) => s === batch).length, 3);

    // 300 shapes of 50 rows (~43 KiB each by estimate) pass the 8 MiB bound: the oldest ones go.
    const shapes = Array.from({ length: 300 }, (_, i) => `${rowsOf(50)} -- ${i}`);
    assert.ok(statementBytes(shapes[0]!) <= statementCacheEntryBytes);
    for (const s of shapes) cache.prepare(s);
    cache.prepare(shapes[299]!);
    cache.prepare(shapes[0]!);
    assert.equal(prepared.filter((s) => s === shapes[299]).length, 1, 'the newest shape is still kept');
    assert.equal(prepared.filter((s) => s === shapes[0]).length, 2, 'the oldest shape was let go');
    assert.ok(300 * statementBytes(shapes[0]!) > 8 * 2 ** 20);
  } finally {
    sqlite.close();
  }
});
