import { stat } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import { startThread, threadEntry } from '../lib/worker-thread.js';

/** What the checkpointing thread (src/checkpoint-worker.ts) is started with. */
export interface CheckpointThreadInit {
  file: string;
  /** How often the thread looks for commits to copy back. */
  everyMs: number;
  /** WAL frames left after a PASSIVE checkpoint from which a RESTART copies the rest and rewinds the WAL. */
  restartFrames: number;
  /** The most a RESTART waits for the writer and readers of the moment (the connection's busy timeout). */
  restartWaitMs: number;
  /** Float64 × 4: the figures below, written by the thread. */
  figures: SharedArrayBuffer;
}

export type ToCheckpointThread = { kind: 'stop' };

/** What the checkpointing thread did, for /metrics. */
export interface CheckpointFigures {
  passive: number;
  restart: number;
  busy: number;
  seconds: number;
}

export interface CheckpointerOptions {
  file: string;
  /** Sets the serving connection's `wal_autocheckpoint` (its own checkpoints, in its commits). */
  setAutoCheckpoint: (pages: number) => void;
  /** Told when the thread fails; a new one starts at the next look. */
  onError?: (err: unknown) => void;
  everyMs?: number;
  restartFrames?: number;
  /** The WAL file's size from which the thread starts (an idle node never starts it). */
  startBytes?: number;
  /** How often the WAL file's size is looked at before the thread starts. */
  watchMs?: number;
}

/**
 * The serving connection's own checkpoints, in its commits, while no thread runs: every 8,000 pages (32
 * MiB of WAL), as db/connect.ts explains.
 */
export const servingAutoCheckpointPages = 8000;

/**
 * While the thread runs, the serving connection still checkpoints by itself past this many pages: the
 * thread keeps the WAL far below it (a RESTART from `restartFrames`), so this only acts when the thread
 * falls behind, and the WAL stays bounded as before.
 */
const fallbackAutoCheckpointPages = 32_000;

/** Threads that ended by themselves after which no new one is started. */
const maxFailures = 3;

/**
 * Moves SQLite's checkpoints off the serving thread (db/checkpoint-loop.ts explains what the thread
 * does). The thread costs ~9 MiB, so it starts only once the WAL file has grown past `startBytes`, which
 * a node serving nothing never reaches; the WAL's size is looked at every `watchMs` until then (one
 * `stat`). While the thread runs, the serving connection checkpoints only past 32,000 pages, a fallback;
 * if the thread ends, the connection's own 8,000 comes back and the watch starts again (up to three times).
 */
export class Checkpointer {
  private readonly figures = new Float64Array(new SharedArrayBuffer(4 * 8));
  private readonly everyMs: number;
  private readonly restartFrames: number;
  private readonly startBytes: number;
  private worker: Worker | undefined;
  private watch: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;

  constructor(private readonly options: CheckpointerOptions) {
    this.everyMs = options.everyMs ?? 100;
    this.restartFrames = options.restartFrames ?? 2000;
    this.startBytes = options.startBytes ?? 4 * 1024 * 1024;
    this.startWatch();
  }

  /** Whether the thread runs now. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  counts(): CheckpointFigures {
    const f = this.figures;
    return { passive: f[0]!, restart: f[1]!, busy: f[2]!, seconds: f[3]! / 1000 };
  }

  /** Starts the thread now, whatever the WAL's size (tests, `berth` commands that write much). */
  start(): void {
    if (this.stopped || this.worker) return;
    if (this.watch) clearInterval(this.watch);
    this.watch = undefined;
    const init: CheckpointThreadInit = {
      ...{ file: this.options.file, everyMs: this.everyMs, restartFrames: this.restartFrames },
      ...{ restartWaitMs: 20, figures: this.figures.buffer as SharedArrayBuffer },
    };
    const worker = startThread(threadEntry('checkpoint-worker'), 'berth-checkpoints', init, {
      maxOldGenerationSizeMb: 32,
      maxYoungGenerationSizeMb: 1,
    });
    this.worker = worker;
    worker.unref();
    worker.on('error', (err) => this.options.onError?.(err));
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.stopped) return;
      this.options.setAutoCheckpoint(servingAutoCheckpointPages);
      // A thread that keeps failing is not started again: the connection checkpoints as before.
      if (++this.failures < maxFailures) this.startWatch();
    });
    this.options.setAutoCheckpoint(fallbackAutoCheckpointPages);
  }

  /** Stops the thread (its connection closed) and the watch; the serving connection checkpoints as before. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watch) clearInterval(this.watch);
    this.watch = undefined;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const ended = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ kind: 'stop' } satisfies ToCheckpointThread);
    // The thread ends once its connection is closed; a thread stuck in a checkpoint is ended after 2 s.
    const late = setTimeout(() => void worker.terminate(), 2000);
    await ended;
    clearTimeout(late);
    this.options.setAutoCheckpoint(servingAutoCheckpointPages);
  }

  private startWatch(): void {
    if (this.stopped || this.watch) return;
    this.watch = setInterval(() => {
      stat(`${this.options.file}-wal`).then(
        (s) => {
          if (s.size >= this.startBytes) this.start();
        },
        () => {},
      );
    }, this.options.watchMs ?? 2000);
    this.watch.unref();
  }
}
