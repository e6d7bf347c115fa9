/**
 * The checkpointing thread's entry (db/checkpointer.ts starts it): SQLite's WAL checkpoints off the
 * serving thread, as db/checkpoint-loop.ts does them, until the starter says stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCheckpoints } from './db/checkpoint-loop.js';
import type { CheckpointThreadInit, ToCheckpointThread } from './db/checkpointer.js';

const stop = runCheckpoints(workerData as CheckpointThreadInit);
parentPort!.on('message', (m: ToCheckpointThread) => {
  if (m.kind !== 'stop') return;
  stop();
  parentPort!.close();
});
