import { z } from 'zod';
import type { MetaStore } from '../../db/store.js';
import type { ExecutionRow, JobStatus } from '../../db/tables.js';
import { cronOf, scheduleTypeOf, type CronScheduler } from '../../jobs/cron.js';
import { PermanentJobError, type JobContext } from '../../jobs/kind.js';
import { jobLogText, type JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { GarbageCollector, GcParams, GcResult } from './garbage-collector.js';

/** The payload of a `gc.run` job: an execution started by hand, or (without one) a scheduled run. */
export const gcRunPayload = z
  .object({
    executionId: z.number().int().optional(),
    deleteUntagged: z.boolean().default(false),
    dryRun: z.boolean().default(false),
    workers: z.number().int().min(1).max(10).default(1),
  })
  .strict();
export type GcRunPayload = z.infer<typeof gcRunPayload>;

export type ScheduleType = 'Hourly' | 'Daily' | 'Weekly' | 'Custom';

export interface GcSchedule {
  id: number;
  type: ScheduleType;
  cron: string;
  params: GcParams;
  nextFire: string | null;
  creationTime: string;
  updateTime: string;
}

/** One run as Harbor's GC history shows it. */
export interface GcExecution {
  id: number;
  trigger: string;
  status: string;
  /** Parameters and, once done, the figures (Harbor's job_parameters). */
  attrs: Record<string, unknown>;
  startTime: string;
  endTime: string | null;
  updateTime: string;
}

const scheduleName = 'gc';
const jobStatusWord: Partial<Record<JobStatus, string>> = { failed: 'Error', stopped: 'Stopped' };

/**
 * Garbage collection as Harbor's API knows it: executions (one `gc.run` job each, once cluster-wide),
 * their logs, stop, and the cron schedule. The work itself is GarbageCollector's.
 */
export class GcService {
  constructor(
    private readonly d: {
      store: Pick<MetaStore, 'gc' | 'jobs' | 'schedules' | 'transaction'>;
      clock: Clock;
      queue: JobQueue;
      scheduler: CronScheduler;
      collector: GarbageCollector;
    },
  ) {}

  private now(): string {
    return this.d.clock.now().toISOString();
  }

  /** Starts a run now; CONFLICT while another one is pending or running. Returns the execution id. */
  async start(params: GcParams, trigger: 'MANUAL' | 'SCHEDULE' = 'MANUAL'): Promise<number> {
    if (await this.busy()) throw new AppError('CONFLICT', 'a garbage collection is already running');
    return this.d.store.transaction(async (tx) => {
      const execution = await tx.gc.createExecution(trigger, paramAttrs(params), 'Pending', this.now());
      await this.d.queue.enqueue(
        tx,
        'gc.run',
        { executionId: execution.id, ...params },
        { executionId: execution.id },
      );
      return execution.id;
    });
  }

  /** The `gc.run` handler. */
  async runJob(p: GcRunPayload, ctx: JobContext): Promise<void> {
    const params: GcParams = { deleteUntagged: p.deleteUntagged, dryRun: p.dryRun, workers: p.workers };
    let id = p.executionId;
    if (id === undefined) {
      // A scheduled fire: skipped while another run is going on.
      if (await this.busy(ctx.jobId)) {
        await ctx.log('skipped: another garbage collection is running');
        return;
      }
      id = (await this.d.store.gc.createExecution('SCHEDULE', paramAttrs(params), 'Running', this.now())).id;
      await ctx.log(`scheduled run: execution ${id}`);
    } else {
      const execution = await this.d.store.gc.findExecution(id);
      if (!execution) throw new PermanentJobError(`garbage collection ${id} no longer exists`);
      if (execution.status === 'Stopped') return;
      await this.d.store.gc.setExecution(id, { status: 'Running' }, this.now(), ['Pending', 'Running']);
    }
    let result: GcResult;
    try {
      result = await this.d.collector.run(params, ctx);
    } catch (err) {
      if (err instanceof PermanentJobError || ctx.attempt >= ctx.maxAttempts) {
        await this.d.store.gc.setExecution(
          id,
          { status: 'Error', status_message: (err as Error).message, end_time: this.now() },
          this.now(),
          ['Running'],
        );
      }
      throw err;
    }
    await this.d.store.gc.setExecution(
      id,
      {
        status: result.stopped ? 'Stopped' : 'Success',
        extra_attrs: JSON.stringify({ ...paramAttrs(params), ...resultAttrs(result) }),
        end_time: this.now(),
      },
      this.now(),
      ['Running'],
    );
    // A stop that arrived after the last batch still leaves the figures of what was done.
    await this.d.store.gc.setExecution(
      id,
      { extra_attrs: JSON.stringify({ ...paramAttrs(params), ...resultAttrs(result) }) },
      this.now(),
      ['Stopped'],
    );
  }

  async list(offset: number, limit: number): Promise<{ total: number; items: GcExecution[] }> {
    const { rows, total } = await this.d.store.gc.listExecutions(offset, limit);
    return { total, items: await Promise.all(rows.map((r) => this.view(r))) };
  }

  async get(id: number): Promise<GcExecution> {
    return this.view(await this.execution(id));
  }

  /** The run's log; NOT_FOUND before its job exists. */
  async log(id: number): Promise<string> {
    await this.execution(id);
    const jobId = await this.d.store.gc.jobOf(id);
    const job = jobId === undefined ? undefined : await this.d.store.jobs.find(jobId);
    if (!job) throw new AppError('NOT_FOUND', `garbage collection ${id} log is not found`);
    return jobLogText(this.d.store, job);
  }

  /** Stops a pending or running execution (a running one finishes the batch it is deleting). */
  async stop(id: number): Promise<void> {
    const execution = await this.execution(id);
    await this.d.store.gc.setExecution(
      execution.id,
      { status: 'Stopped', status_message: 'stopped by a user', end_time: this.now() },
      this.now(),
      ['Pending', 'Running'],
    );
    const jobId = await this.d.store.gc.jobOf(id);
    if (jobId !== undefined) await this.d.queue.stop(jobId);
  }

  async schedule(): Promise<GcSchedule | undefined> {
    const row = await this.d.store.schedules.findByName(scheduleName);
    if (!row) return undefined;
    const p = gcRunPayload.parse(JSON.parse(row.payload));
    return {
      id: row.id,
      type: scheduleTypeOf(row.cron),
      cron: row.cron,
      params: { deleteUntagged: p.deleteUntagged, dryRun: p.dryRun, workers: p.workers },
      nextFire: row.next_fire_time,
      creationTime: row.creation_time,
      updateTime: row.update_time,
    };
  }

  /** Sets (or with 'None' removes) the schedule. */
  async setSchedule(type: ScheduleType | 'None', cron: string | undefined, params: GcParams): Promise<void> {
    if (type === 'None') {
      await this.d.scheduler.remove(scheduleName);
      return;
    }
    const expression = cronOf(type, cron);
    await this.d.scheduler.upsert({ name: scheduleName, cron: expression, kind: 'gc.run', payload: params });
  }

  /** The figures of the last finished run (for /metrics). */
  async lastResult(): Promise<Record<string, unknown> | undefined> {
    const { rows } = await this.d.store.gc.listExecutions(0, 20);
    const done = rows.find((r) => r.status === 'Success' || r.status === 'Stopped');
    return done ? (JSON.parse(done.extra_attrs) as Record<string, unknown>) : undefined;
  }

  /** Another run is pending or going on (its job is the truth: a stopped run finishes its batch first). */
  private async busy(exceptJob?: number): Promise<boolean> {
    return (await this.d.store.gc.activeJobs(exceptJob)) > 0;
  }

  private async execution(id: number): Promise<ExecutionRow> {
    const row = await this.d.store.gc.findExecution(id);
    if (!row) throw new AppError('NOT_FOUND', `garbage collection ${id} not found`);
    return row;
  }

  /** An open execution whose job ended for good (its worker died on the last attempt) shows the job's end. */
  private async view(row: ExecutionRow): Promise<GcExecution> {
    let status = row.status;
    if (status === 'Pending' || status === 'Running') {
      const jobId = await this.d.store.gc.jobOf(row.id);
      const job = jobId === undefined ? undefined : await this.d.store.jobs.find(jobId);
      status = (job && jobStatusWord[job.status]) ?? status;
    }
    return {
      id: row.id,
      trigger: row.trigger,
      status,
      attrs: JSON.parse(row.extra_attrs) as Record<string, unknown>,
      startTime: row.start_time,
      endTime: row.end_time,
      updateTime: row.update_time,
    };
  }
}

/** GC's parameters as Harbor names them (job_parameters). */
export function paramAttrs(p: GcParams): Record<string, unknown> {
  return { delete_untagged: p.deleteUntagged, dry_run: p.dryRun, workers: p.workers };
}

function resultAttrs(r: GcResult): Record<string, unknown> {
  return {
    purged_blobs: r.blobsDeleted,
    purged_manifests: r.manifestsDeleted,
    freed_space: r.bytesFreed,
    blobs_examined: r.blobsExamined,
    bytes_examined: r.bytesExamined,
    untagged_deleted: r.untaggedDeleted,
    untagged_kept: r.untaggedKept,
    kept_referenced: r.keptReferenced,
    kept_recent: r.keptRecent,
    kept_raced: r.keptRaced,
    uploads_purged: r.uploadsPurged,
    upload_folders_purged: r.uploadFoldersPurged,
    duration_ms: r.durationMs,
  };
}
