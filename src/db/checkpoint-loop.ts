import BetterSqlite3 from 'better-sqlite3';
import type { CheckpointThreadInit } from './checkpointer.js';

interface Outcome {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * The checkpointing thread's work (src/checkpoint-worker.ts runs it; db/checkpointer.ts starts the thread):
 * copies the SQLite WAL back into the database file off the serving thread. A checkpoint writes the pages
 * and waits for two fsyncs; run by the connection whose commit took the WAL past `wal_autocheckpoint`, it
 * stood the serving event loop still for each of them (the webhooks row's pushes without webhooks: 652
 * pushes/s with it, 989 without any checkpoint). A connection of its own and nothing else: no query
 * builder, no logger.
 *
 * Each look, when another connection committed since the last one (`data_version`), it runs a PASSIVE
 * checkpoint, which never blocks a writer. Under a steady stream of commits a PASSIVE checkpoint never
 * ends with the whole WAL copied (commits land during its fsync), and the WAL is only rewound from its
 * start once it was: so when the WAL holds `restartFrames` or more after it, a RESTART checkpoint copies
 * the tail with writers held back (they wait on timers, db/connect.ts) and lets the next writer rewind.
 * Returns the function that stops the looks and closes the connection.
 */
export function runCheckpoints(init: CheckpointThreadInit): () => void {
  // The busy timeout bounds a RESTART's wait for the writer and readers of the moment.
  const sqlite = new BetterSqlite3(init.file, { timeout: init.restartWaitMs });
  // A checkpoint reads frames from the WAL and writes them to the file directly: no page cache needed.
  sqlite.pragma('cache_size = -64');
  const dataVersion = sqlite.prepare('pragma data_version').pluck();
  const passive = sqlite.prepare('pragma wal_checkpoint(PASSIVE)');
  const restart = sqlite.prepare('pragma wal_checkpoint(RESTART)');
  // [passive checkpoints, restart checkpoints, checkpoints that found a lock busy, ms spent]
  const figures = new Float64Array(init.figures);
  let seen = -1;

  const look = () => {
    const version = dataVersion.get() as number;
    if (version === seen) return;
    seen = version;
    const start = performance.now();
    try {
      let outcome = passive.get() as Outcome;
      figures[0]!++;
      if (outcome.busy === 0 && outcome.log >= init.restartFrames) {
        outcome = restart.get() as Outcome;
        figures[1]!++;
      }
      if (outcome.busy !== 0) {
        figures[2]!++;
        seen = -1;
      }
    } catch (err) {
      // SQLITE_BUSY out of a RESTART's wait: the next look tries again.
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') throw err;
      figures[2]!++;
      seen = -1;
    } finally {
      figures[3]! += performance.now() - start;
    }
  };

  const timer = setInterval(look, init.everyMs);
  return () => {
    clearInterval(timer);
    sqlite.close();
  };
}
