import BetterSqlite3 from 'better-sqlite3';

/**
 * A database file in WAL mode whose connection never checkpoints by itself (only a checkpointing thread
 * can, src/db/checkpointer.ts), and a table whose rows take a page each (a 3 KiB body): src/db's
 * checkpointer tests and test/helpers/checkpoint-writer-child.ts.
 */
export function openWalWriter(file: string): {
  db: BetterSqlite3.Database;
  insert: (fill: number) => number;
} {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('create table if not exists t (id integer primary key, body blob not null)');
  const statement = db.prepare('insert into t (body) values (?)');
  return { db, insert: (fill) => Number(statement.run(Buffer.alloc(3000, fill)).lastInsertRowid) };
}
