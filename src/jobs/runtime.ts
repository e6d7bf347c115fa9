import type { MetaStore } from '../db/store.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { CronScheduler } from './cron.js';
import { JobQueue } from './queue.js';
import { JobWorker } from './worker.js';

export interface JobsConfig {
  workers: number;
  concurrency: Record<string, number>;
  leaseSeconds: number;
  pollIntervalMs: number;
}

/**
 * The queue, the cron scheduler and (unless `workers` is 0) a worker, for one process. Kinds are
 * registered on `queue` by the composition root before `start()`.
 */
export class JobRuntime {
  readonly queue: JobQueue;
  readonly scheduler: CronScheduler;
  readonly worker: JobWorker | undefined;
  private readonly schedules: boolean;

  constructor(deps: {
    store: Pick<MetaStore, 'jobMonitor' | 'jobs' | 'schedules' | 'transaction'>;
    clock: Clock;
    log: Logger;
    config: JobsConfig;
    /** Fire cron schedules here (default true); false in the workers of `serve --workers` but one. */
    schedules?: boolean | undefined;
  }) {
    const { store, clock, log, config } = deps;
    this.schedules = deps.schedules ?? true;
    this.queue = new JobQueue({ store, clock });
    this.scheduler = new CronScheduler({ store, queue: this.queue, clock, log });
    this.worker =
      config.workers > 0
        ? new JobWorker({
            store,
            queue: this.queue,
            clock,
            log,
            workers: config.workers,
            concurrency: config.concurrency,
            leaseMs: config.leaseSeconds * 1000,
            pollMs: config.pollIntervalMs,
          })
        : undefined;
  }

  start(): void {
    if (this.schedules) this.scheduler.start();
    this.worker?.start();
  }

  async close(): Promise<void> {
    this.scheduler.stop();
    await this.worker?.close();
  }
}
