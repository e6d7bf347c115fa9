import type { MetaStore } from '../db/store.js';
import type { JobWorkerPoolRow, ScheduleRow } from '../db/tables.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { schedulerQueue } from './cron.js';
import { jobLogText, type JobQueue } from './queue.js';
import { poolBeatMs } from './worker.js';

export type QueueAction = 'stop' | 'pause' | 'resume';

export interface QueueView {
  jobType: string;
  /** Pending jobs (for the scheduler: schedules whose fire time has come). */
  count: number;
  /** Seconds the oldest runnable one has waited. */
  latency: number;
  paused: boolean;
}

export interface WorkerView {
  id: string;
  poolId: string;
  job?: { id: number; kind: string; startTime: string | null; checkinTime: string | null };
}

/**
 * The job service dashboard over the job table: worker pools (one per process running a worker), their
 * workers and the jobs they run, per-kind queues that can be paused, resumed or emptied, and schedules.
 * Everything is read from and written to the database, so any node answers for the whole cluster.
 */
export class JobMonitor {
  constructor(
    private readonly d: {
      store: Pick<MetaStore, 'jobMonitor' | 'jobs' | 'schedules'>;
      queue: JobQueue;
      clock: Clock;
    },
  ) {}

  private now(): Date {
    return this.d.clock.now();
  }

  /** Pools that heartbeated in the last six beats. */
  pools(): Promise<JobWorkerPoolRow[]> {
    return this.d.store.jobMonitor.livePools(new Date(this.now().getTime() - 6 * poolBeatMs).toISOString());
  }

  /** One entry per worker slot of the pool (`all`: of every pool), with the job it runs if any. */
  async workers(poolId: string): Promise<WorkerView[]> {
    const pools = (await this.pools()).filter((p) => poolId === 'all' || p.id === poolId);
    if (pools.length === 0 && poolId !== 'all')
      throw new AppError('NOT_FOUND', `worker pool ${poolId} not found`);
    const running = await this.d.store.jobMonitor.running(pools.map((p) => p.id));
    return pools.flatMap((pool) => {
      const jobs = running.filter((j) => j.lease_owner === pool.id);
      const slots = Math.max(pool.concurrency, jobs.length);
      return Array.from({ length: slots }, (_, i): WorkerView => {
        const job = jobs[i];
        return {
          id: `${pool.id}#${i + 1}`,
          poolId: pool.id,
          ...(job
            ? {
                job: {
                  id: job.id,
                  kind: job.kind,
                  startTime: job.start_time,
                  checkinTime: job.heartbeat_time,
                },
              }
            : {}),
        };
      });
    });
  }

  /** Every registered kind (and any kind with pending jobs), then the cron scheduler. */
  async queues(): Promise<QueueView[]> {
    const now = this.now();
    const seconds = (since: string | null) =>
      since ? Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 1000)) : 0;
    const figures = await this.d.store.jobMonitor.queueFigures(now.toISOString());
    const paused = await this.d.store.jobMonitor.pausedTypes();
    const byKind = new Map(figures.map((f) => [f.kind, f]));
    const kinds = [...new Set([...this.d.queue.kindNames(), ...byKind.keys()])].sort();
    const due = await this.d.store.schedules.due(now.toISOString());
    return [
      ...kinds.map((kind) => ({
        jobType: kind,
        count: byKind.get(kind)?.pending ?? 0,
        latency: seconds(byKind.get(kind)?.oldestRunnable ?? null),
        paused: paused.has(kind),
      })),
      {
        jobType: schedulerQueue,
        count: due.length,
        latency: seconds(due[0]?.next_fire_time ?? null),
        paused: paused.has(schedulerQueue),
      },
    ];
  }

  /** Pauses, resumes or empties (stops every pending job of) a queue; `all` acts on every queue. */
  async act(jobType: string, action: QueueAction): Promise<void> {
    const types = await this.resolve(jobType);
    const now = this.now().toISOString();
    if (action === 'stop') {
      await this.d.store.jobMonitor.stopPending(
        types.filter((t) => t !== schedulerQueue),
        now,
      );
    } else {
      await this.d.store.jobMonitor.setPaused(types, action === 'pause', now);
    }
  }

  /** Stops a job (`all`: every running job): pending at once, running at its next heartbeat. */
  async stopJob(jobId: string): Promise<void> {
    if (jobId.toLowerCase() === 'all') {
      for (const id of await this.d.store.jobMonitor.runningIds()) await this.d.queue.stop(id);
      return;
    }
    await this.d.queue.stop(this.jobIdOf(jobId));
  }

  async jobLog(jobId: string): Promise<string> {
    const job = await this.d.queue.get(this.jobIdOf(jobId));
    if (!job) throw new AppError('NOT_FOUND', `job ${jobId} not found`);
    return jobLogText(this.d.store, job);
  }

  schedules(page: { offset: number; limit: number }): Promise<{ rows: ScheduleRow[]; total: number }> {
    return this.d.store.schedules.list(page);
  }

  /** Whether the cron scheduler is paused (Harbor: its SCHEDULER queue). */
  schedulerPaused(): Promise<boolean> {
    return this.d.store.jobMonitor.isPaused(schedulerQueue);
  }

  private jobIdOf(jobId: string): number {
    const id = /^\d{1,10}$/.test(jobId) ? Number(jobId) : NaN;
    if (!Number.isSafeInteger(id) || id < 1) throw new AppError('NOT_FOUND', `job ${jobId} not found`);
    return id;
  }

  /** Job types by name, case-insensitively (Harbor's clients send them upper-cased). */
  private async resolve(jobType: string): Promise<string[]> {
    const known = (await this.queues()).map((q) => q.jobType);
    if (jobType.toLowerCase() === 'all') return known;
    const match = known.find((k) => k.toLowerCase() === jobType.toLowerCase());
    if (!match) {
      throw new AppError('NOT_FOUND', `unknown job type ${jobType}; known: ${known.join(', ')}, or all`);
    }
    return [match];
  }
}
