import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { waitFor } from '../../test/helpers/wait.js';
import { openWalWriter } from '../../test/helpers/wal-writer.js';
import { Checkpointer } from './checkpointer.js';
import { connect } from './connect.js';

/** A database file whose connection never checkpoints by itself (only the thread can). */
function writer(dir: string): { file: string; db: BetterSqlite3.Database; write(rows: number): void } {
  const file = join(dir, 'berth.db');
  const { db, insert } = openWalWriter(file);
  // Each commit writes a page of its own at least (a 3 KiB row), as a push's commit writes ~28.
  const write = (rows: number) => {
    for (let i = 0; i < rows; i++) insert(i % 251);
  };
  return { file, db, write };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the checkpointing thread (SQLite)', () => {
  test('copies the WAL into the database file and rewinds it while a connection that never checkpoints writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ckpt-'));
    const w = writer(dir);
    const autoCheckpoint: number[] = [];
    const ckpt = new Checkpointer({
      file: w.file,
      setAutoCheckpoint: (pages) => autoCheckpoint.push(pages),
      ...{ everyMs: 5, restartFrames: 100, startBytes: 0, watchMs: 5 },
    });
    try {
      await waitFor('the thread to start', () => ckpt.running);
      // While it runs, the serving connection's own checkpoints are only a fallback far above the thread's.
      assert.deepEqual(autoCheckpoint, [32_000]);
      // Commits of a page or more each, 100 at a time, until the thread has rewound the WAL once.
      let rows = 0;
      const burst = async () => {
        w.write(100);
        rows += 100;
        await pause(10);
      };
      while (ckpt.counts().restart === 0 && rows < 100_000) await burst();
      // Then 2,000 more commits: about 6,000 frames, which a WAL never rewound would hold.
      for (let round = 0; round < 20; round++) await burst();
      const c = ckpt.counts();
      assert.ok(c.passive > 0 && c.restart > 0, JSON.stringify(c));
      assert.ok(c.seconds > 0);
      // The WAL was rewound from its start meanwhile (its file keeps its size; the frames in use are few).
      const [{ log }] = w.db.pragma('wal_checkpoint(PASSIVE)') as [{ log: number }];
      assert.ok(log < 3000, `${log} frames in the WAL`);
      // And the rows are in the database file: another connection reading the file alone sees them all.
      assert.equal(w.db.prepare('select count(*) from t').pluck().get(), rows);
      assert.equal(w.db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      await ckpt.stop();
      w.db.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(ckpt.running, false);
    // Stopped: the connection checkpoints by itself again, every 8,000 pages.
    assert.deepEqual(autoCheckpoint, [32_000, 8000]);
  });

  test('starts only once the WAL has grown past its start size (an idle node keeps its memory)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ckpt-'));
    const w = writer(dir);
    const ckpt = new Checkpointer({
      file: w.file,
      setAutoCheckpoint: () => {},
      ...{ everyMs: 5, startBytes: 1024 * 1024, watchMs: 5 },
    });
    try {
      w.write(10);
      await pause(100);
      assert.equal(ckpt.running, false, `started with a WAL of ${statSync(`${w.file}-wal`).size} bytes`);
      w.write(400);
      await waitFor('the thread to start past 1 MiB of WAL', () => ckpt.running);
      await waitFor('a checkpoint', () => ckpt.counts().passive > 0);
    } finally {
      await ckpt.stop();
      w.db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("connect(): the serving connection's commits leave the checkpoints to the thread; close stops it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ckpt-'));
    const file = join(dir, 'berth.db');
    const handle = connect({
      ...{ url: `sqlite:${file}`, poolMax: 1, acquireTimeoutMs: 5000 },
      checkpointThread: {},
    });
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      await sql`create table t (id integer primary key, body blob not null)`.execute(handle.db);
      const body = Buffer.alloc(3000, 7);
      // 1,500 commits (~6 MiB of WAL): past the 4 MiB from which the thread starts.
      for (let i = 0; i < 1500; i++) await sql`insert into t (body) values (${body})`.execute(handle.db);
      await waitFor('the thread to start and checkpoint', () => (handle.checkpoints?.().passive ?? 0) > 0);
      assert.equal(reader.prepare('select count(*) from t').pluck().get(), 1500);
    } finally {
      reader.close();
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a process killed (SIGKILL) while its thread checkpoints loses no commit and leaves a sound database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ckpt-'));
    const file = join(dir, 'berth.db');
    const script = fileURLToPath(new URL('../../test/helpers/checkpoint-writer-child.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      // Killed once its thread has rewound the WAL at least once, in the middle of its commits and checkpoints.
      await waitFor('the child to checkpoint', () => out.includes('checkpointing\n'));
      await pause(150);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const committed = out
        .split('\n')
        .filter((l) => /^\d+$/.test(l))
        .map(Number);
      assert.ok(committed.length > 100, `${committed.length} commits`);
      const db = new BetterSqlite3(file);
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        // Every commit the child reported is there (it printed an id only after its commit returned).
        const max = db.prepare('select max(id) from t').pluck().get() as number;
        assert.ok(max >= Math.max(...committed), `max id ${max}, last reported ${Math.max(...committed)}`);
        const n = db.prepare('select count(*) from t').pluck().get() as number;
        assert.equal(n, max);
      } finally {
        db.close();
      }
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
