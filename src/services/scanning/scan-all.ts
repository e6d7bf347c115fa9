import { z } from 'zod';
import type { MetaStore } from '../../db/store.js';
import type { ExecutionRow } from '../../db/tables.js';
import { cronOf, scheduleTypeOf, type CronScheduler, type ScheduleType } from '../../jobs/cron.js';
import type { JobContext } from '../../jobs/kind.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/logger.js';
import { AppError } from '../../lib/errors.js';
import type { ScanService } from './scan-service.js';

/** Harbor's execution vendor type of scan all (job.ScanAllVendorType). */
export const SCAN_ALL_VENDOR = 'SCAN_ALL';
const scheduleName = 'scan-all';
/** Who a scheduled run is by (Harbor's jobservice user). */
const scheduleOperator = 'harbor-jobservice';
const batchSize = 50;

/** The `scan.all` job's payload: a run started by hand, or (without an execution) a scheduled fire. */
export const scanAllPayload = z
  .object({ executionId: z.number().int().optional(), operator: z.string().optional() })
  .strict();
export type ScanAllPayload = z.infer<typeof scanAllPayload>;

/** What the walk over the registry did (Harbor's `summary` in the execution's extra attributes). */
interface Summary {
  total_count: number;
  submit_count: number;
  fresh_count: number;
  conflict_count: number;
  precondition_count: number;
  unsupport_count: number;
  unknow_count: number;
}

/** Harbor's `Stats` of the latest run: its tasks by status, and whether it is still going on. */
export interface ScanAllStats {
  total?: number;
  completed?: number;
  metrics?: Record<string, number>;
  ongoing?: boolean;
  trigger?: string;
}

export interface ScanAllSchedule {
  id: number;
  type: string;
  cron: string;
  nextFire: string | null;
  creationTime: string;
  updateTime: string;
}

/**
 * Scan all, as Harbor's scan controller runs it: an execution whose `scan.all` job walks every artifact
 * (accessories and index children aside) and starts each one's scan as a task of the execution, so
 * `jobs.concurrency["scan.artifact"]` caps how many run at once. Unlike Harbor, an artifact whose report
 * is newer than the scanner's vulnerability database is not scanned again. Stop ends the execution,
 * its queued scans at once and its running ones when they see the stop. The schedule is a cron entry
 * that starts the same job.
 */
export class ScanAll {
  constructor(
    private readonly d: {
      store: Pick<MetaStore, 'executions' | 'artifactCatalog' | 'scanners' | 'schedules'>;
      clock: Clock;
      log: Log;
      queue: Pick<JobQueue, 'add'>;
      scheduler: Pick<CronScheduler, 'upsert' | 'remove'>;
      scans: Pick<ScanService, 'scan' | 'stopJob'>;
    },
  ) {}

  private get executions() {
    return this.d.store.executions(SCAN_ALL_VENDOR);
  }

  private now(): string {
    return this.d.clock.now().toISOString();
  }

  /** Harbor refuses every scan all call when no scanner is the default. */
  async requireScanner(): Promise<void> {
    if (!(await this.d.store.scanners.findDefault()))
      throw new AppError('PRECONDITION', "no scanner is configured, it's not possible to scan");
  }

  /** Harbor's POST /system/scanAll/schedule: Manual runs now, None does nothing, the others schedule. */
  async create(type: ScheduleType, cron: string | undefined, operator: string): Promise<void> {
    await this.requireScanner();
    if (type === 'None') return;
    if (type === 'Manual') {
      await this.start(operator);
      return;
    }
    if (await this.d.store.schedules.findByName(scheduleName))
      throw new AppError(
        'PRECONDITION',
        'fail to set schedule for scan all as always had one, please delete it firstly then to re-schedule',
      );
    await this.setSchedule(type, cron);
  }

  /** Harbor's PUT /system/scanAll/schedule: None removes the schedule, the periodic types set it. */
  async update(type: ScheduleType, cron: string | undefined): Promise<void> {
    await this.requireScanner();
    if (type === 'Manual')
      throw new AppError('BAD_REQUEST', `fail to update scan all schedule as wrong schedule type: ${type}`);
    if (type === 'None') await this.d.scheduler.remove(scheduleName);
    else await this.setSchedule(type, cron);
  }

  private async setSchedule(type: ScheduleType, cron: string | undefined): Promise<void> {
    let expression: string;
    try {
      expression = cronOf(type === 'Schedule' ? 'Custom' : type, cron);
    } catch (err) {
      throw new AppError(
        'BAD_REQUEST',
        `invalid cron string for scheduled scan all: ${cron ?? ''}, error: ${(err as Error).message}`,
      );
    }
    const payload: ScanAllPayload = { operator: scheduleOperator };
    await this.d.scheduler.upsert({ name: scheduleName, cron: expression, kind: 'scan.all', payload });
  }

  async schedule(): Promise<ScanAllSchedule | undefined> {
    await this.requireScanner();
    const row = await this.d.store.schedules.findByName(scheduleName);
    if (!row) return undefined;
    return {
      id: row.id,
      type: scheduleTypeOf(row.cron),
      cron: row.cron,
      nextFire: row.next_fire_time,
      creationTime: row.creation_time,
      updateTime: row.update_time,
    };
  }

  /** Starts a run by hand; CONFLICT while the latest manual one goes on. Returns the execution id. */
  async start(operator: string): Promise<number> {
    const latest = await this.latest('MANUAL');
    if (latest) {
      const status = (await this.stats(latest)).status;
      if (!finalStatuses.includes(status))
        throw new AppError('CONFLICT', `a previous scan all job aleady exits, its status is ${status}`);
    }
    const execution = await this.executions.create(0, 'MANUAL', this.now(), { operator });
    const payload: ScanAllPayload = { executionId: execution.id, operator };
    await this.d.queue.add('scan.all', payload);
    return execution.id;
  }

  /** The `scan.all` handler: walks the artifacts in id order and starts each one's scan. */
  async runJob(p: ScanAllPayload, ctx: JobContext): Promise<void> {
    const operator = p.operator ?? scheduleOperator;
    let execution = p.executionId === undefined ? undefined : await this.executions.find(p.executionId);
    if (p.executionId !== undefined && !execution) return;
    execution ??= await this.executions.create(0, 'SCHEDULE', this.now(), { operator });
    const id = execution.id;
    if (execution.status === 'Stopped') return;
    const summary: Summary = {
      total_count: 0,
      submit_count: 0,
      fresh_count: 0,
      conflict_count: 0,
      precondition_count: 0,
      unsupport_count: 0,
      unknow_count: 0,
    };
    let stopped = false;
    for (let after = 0; !stopped;) {
      const batch = await this.d.store.artifactCatalog.scanBatch(after, batchSize);
      if (batch.length === 0) break;
      // A stop is seen between batches (the execution row), or at once through the job's signal.
      if (ctx.signal.aborted || (await this.executions.find(id))?.status === 'Stopped') break;
      for (const a of batch) {
        after = a.id;
        if (ctx.signal.aborted) {
          stopped = true;
          break;
        }
        summary.total_count++;
        const subject = {
          projectId: a.project_id,
          repository: a.repository_name,
          repositoryId: a.repository_id,
          row: a,
        };
        try {
          const r = await this.d.scans.scan({ log: this.d.log }, subject, {
            type: 'vulnerability',
            operator,
            executionId: id,
            skipFresh: true,
          });
          if (r.queued > 0) summary.submit_count++;
          else if (r.fresh > 0) summary.fresh_count++;
        } catch (err) {
          const code = err instanceof AppError ? err.code : '';
          if (code === 'CONFLICT') summary.conflict_count++;
          else if (code === 'PRECONDITION') summary.precondition_count++;
          else if (code === 'BAD_REQUEST') summary.unsupport_count++;
          else {
            summary.unknow_count++;
            await ctx.log(`${a.repository_name}@${a.digest}: ${(err as Error).message}`);
          }
        }
      }
    }
    await ctx.log(`scan all ${id}: ${JSON.stringify(summary)}`);
    const attrs = JSON.stringify({ ...(JSON.parse(execution.extra_attrs) as object), summary });
    await this.executions.set(id, { extra_attrs: attrs }, this.now());
    const current = await this.executions.find(id);
    if (current?.status === 'Stopped') {
      // Scans queued while the stop was being made are stopped too.
      await this.stopTasks(id, operator);
      return;
    }
    if (summary.submit_count > 0) return;
    const failed = summary.precondition_count + summary.unknow_count > 0;
    await this.executions.set(
      id,
      { status: failed ? 'Error' : 'Success', status_message: doneMessage(summary), end_time: this.now() },
      this.now(),
    );
  }

  /** Harbor's POST /system/scanAll/stop: stops the latest run and its unfinished scans. */
  async stop(operator: string): Promise<void> {
    await this.requireScanner();
    const latest = await this.latest();
    if (!latest) throw new AppError('BAD_REQUEST', 'no scan all job is found currently');
    if (!finalStatuses.includes(latest.status))
      await this.executions.set(
        latest.id,
        { status: 'Stopped', status_message: `stopped by ${operator}`, end_time: this.now() },
        this.now(),
      );
    await this.stopTasks(latest.id, operator);
  }

  private async stopTasks(id: number, operator: string): Promise<void> {
    for (const jobId of await this.executions.openTasks(id)) await this.d.scans.stopJob(jobId, operator);
  }

  /** Harbor's metrics of the latest run (of a trigger): {} before any. */
  async metrics(trigger?: 'SCHEDULE'): Promise<ScanAllStats> {
    await this.requireScanner();
    const latest = await this.latest(trigger);
    if (!latest) return {};
    const { total, completed, metrics, status } = await this.stats(latest);
    return {
      total,
      completed,
      metrics,
      ongoing: !finalStatuses.includes(status) || total !== completed,
      trigger: latest.trigger.charAt(0) + latest.trigger.slice(1).toLowerCase(),
    };
  }

  private async latest(trigger?: string): Promise<ExecutionRow | undefined> {
    const { rows } = await this.executions.list({ ...(trigger ? { trigger } : {}), offset: 0, limit: 1 });
    return rows[0];
  }

  /**
   * A run's tasks by Harbor's status words, and the run's status: the one recorded when it ended (Stopped,
   * or done with nothing queued), else Running while the walk or a task goes on, then from its tasks.
   */
  private async stats(e: ExecutionRow) {
    const c = (await this.executions.taskCounts([e.id])).get(e.id)!;
    const metrics = {
      Pending: c.pending,
      Running: c.running,
      Success: c.succeeded,
      Error: c.failed,
      Stopped: c.stopped,
    };
    const total = c.pending + c.running + c.succeeded + c.failed + c.stopped;
    const completed = c.succeeded + c.failed + c.stopped;
    let status = e.status;
    if (!finalStatuses.includes(status)) {
      const walked = 'summary' in (JSON.parse(e.extra_attrs) as object);
      if (!walked || completed < total) status = 'Running';
      else status = c.stopped > 0 ? 'Stopped' : c.failed > 0 ? 'Error' : 'Success';
    }
    return { total, completed, metrics, status };
  }
}

const finalStatuses = ['Success', 'Error', 'Stopped'];

/** Why a run that queued nothing ended, in Harbor's words. */
function doneMessage(s: Summary): string {
  if (s.total_count === 0) return 'no artifact found';
  let message = `${s.total_count} artifact(s) found`;
  if (s.fresh_count > 0)
    message += `, ${s.fresh_count} artifact(s) already scanned with the current database`;
  if (s.unsupport_count > 0) message += `, ${s.unsupport_count} artifact(s) not scannable`;
  if (s.conflict_count > 0)
    message += `, ${s.conflict_count} artifact(s) have a previous ongoing scan process`;
  if (s.precondition_count > 0)
    message += `, scanner not found or deactivated for ${s.precondition_count} of them`;
  if (s.unknow_count > 0) message += `, internal error happened for ${s.unknow_count} of them`;
  return `${message}, but no scan job submitted to the job service`;
}
