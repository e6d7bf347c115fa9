import type { AuditPurgeFilter } from '../../db/repos/audit.js';
import { executionStatusOfJob, type ExecutionWithJob } from '../../db/repos/executions.js';
import type { MetaStore } from '../../db/store.js';
import type { ScheduleRow } from '../../db/tables.js';
import { cronOf, nextFire, type CronScheduler, type ScheduleType } from '../../jobs/cron.js';
import type { JobContext } from '../../jobs/kind.js';
import { auditPurgeKind, type AuditPurgePayload } from '../../jobs/kinds/audit-purge.js';
import { jobLogText, type JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';

/** Harbor's vendor type of purge executions and its name for the job. */
export const purgeVendorType = 'PURGE_AUDIT_LOG';
const scheduleName = 'audit.purge';
/** Harbor caps the retention at 240,000 hours (about 27 years). */
export const maxRetentionHour = 240_000;
/** Rows per delete: each batch is one short statement, so live audit writes never wait long. */
export const purgeBatchSize = 1000;

/** Harbor's `other`: every event type but these three. */
const notOther = ['create_artifact', 'delete_artifact', 'pull_artifact'];

export interface PurgeParameters {
  audit_retention_hour: number;
  include_event_types: string;
  dry_run: boolean;
}

export interface PurgeRun {
  id: number;
  trigger: string;
  status: string;
  parameters: PurgeParameters;
  creationTime: string;
  updateTime: string;
}

export interface PurgeSchedule {
  row: ScheduleRow;
  type: string;
  parameters: PurgeParameters;
  nextFire: Date | null;
}

function eventFilter(before: string, types: readonly string[]): AuditPurgeFilter {
  const pair = (t: string) => {
    const i = t.indexOf('_');
    return { operation: t.slice(0, i), resourceType: t.slice(i + 1) };
  };
  const names = types.map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
  return {
    before,
    include: names.filter((t) => t !== 'other' && /^[a-z]+_[a-z_-]+$/.test(t)).map(pair),
    ...(names.includes('other') ? { otherThan: notOther.map(pair) } : {}),
  };
}

function parametersOf(p: AuditPurgePayload): PurgeParameters {
  return {
    audit_retention_hour: p.retentionHour,
    include_event_types: p.includeEventTypes.join(','),
    dry_run: p.dryRun,
  };
}

/**
 * Audit log rotation (Harbor's purge): deletes audit rows older than a retention of chosen event types,
 * now or on a cron schedule, as an `audit.purge` job with an execution record per run. Rows go in small
 * batches, each its own statement, so the table is never locked against the rows live requests write.
 */
export class AuditPurge {
  constructor(
    private readonly d: {
      store: Pick<MetaStore, 'audit' | 'executions' | 'jobs' | 'schedules' | 'transaction'>;
      queue: JobQueue;
      scheduler: CronScheduler;
      clock: Clock;
    },
  ) {}

  private now(): string {
    return this.d.clock.now().toISOString();
  }

  /** Starts a run now; returns its execution id. */
  start(payload: AuditPurgePayload, trigger: 'MANUAL' | 'SCHEDULE' = 'MANUAL'): Promise<number> {
    return this.d.store.transaction(async (tx) => {
      const { id } = await tx
        .executions(purgeVendorType)
        .create(-1, trigger, this.now(), parametersOf(payload), 'Pending');
      await this.d.queue.enqueue(tx, auditPurgeKind, payload, { executionId: id });
      return id;
    });
  }

  /** Creates, replaces (periodic types), runs (Manual) or removes (None) the purge schedule. */
  async setSchedule(type: ScheduleType, cron: string | undefined, payload: AuditPurgePayload) {
    if (type === 'Manual') return this.start(payload);
    if (type === 'None') {
      await this.d.scheduler.remove(scheduleName);
      return undefined;
    }
    await this.d.scheduler.upsert({
      name: scheduleName,
      cron: cronOf(type, cron),
      kind: auditPurgeKind,
      payload: { ...payload, scheduleType: type },
    });
    return undefined;
  }

  async schedule(): Promise<PurgeSchedule | undefined> {
    const row = await this.d.store.schedules.findByName(scheduleName);
    if (!row) return undefined;
    const p = JSON.parse(row.payload) as AuditPurgePayload;
    return {
      row,
      type: p.scheduleType ?? 'Custom',
      parameters: parametersOf(p),
      nextFire: nextFire(row.cron, this.d.clock.now()),
    };
  }

  async history(page: { offset: number; limit: number }): Promise<{ runs: PurgeRun[]; total: number }> {
    const { rows, total } = await this.d.store.executions(purgeVendorType).listWithJob(page);
    return { runs: rows.map(runOf), total };
  }

  async get(id: number): Promise<PurgeRun> {
    return runOf(await this.find(id));
  }

  async log(id: number): Promise<string> {
    const e = await this.find(id);
    const job = e.job_id === null ? undefined : await this.d.queue.get(e.job_id);
    if (!job) throw new AppError('NOT_FOUND', `purge job with execution ID ${id}: its task log is not found`);
    return jobLogText(this.d.store, job);
  }

  async stop(id: number): Promise<void> {
    const e = await this.find(id);
    if (e.job_id !== null) await this.d.queue.stop(e.job_id);
  }

  /** The `audit.purge` handler. */
  async run(p: AuditPurgePayload, ctx: JobContext): Promise<void> {
    const { store } = this.d;
    if (ctx.executionId === null) {
      // Fired by the schedule: the run gets its execution record here.
      const { id } = await store
        .executions(purgeVendorType)
        .create(-1, 'SCHEDULE', this.now(), parametersOf(p), 'Pending');
      await store.jobs.attachExecution(ctx.jobId, id, this.now());
    }
    const before = new Date(this.d.clock.now().getTime() - p.retentionHour * 3600_000).toISOString();
    const filter = eventFilter(before, p.includeEventTypes);
    const types = p.includeEventTypes.join(',') || '(none)';
    await ctx.log(
      `purging audit logs older than ${p.retentionHour} h (before ${before}) of event types ${types}${p.dryRun ? ' [dry run]' : ''}`,
    );
    if (p.dryRun) {
      const n = await store.audit.countPurgeable(filter);
      await ctx.log(`[DRYRUN] ${n} audit log row(s) would be purged`);
      return;
    }
    let purged = 0;
    const started = Date.now();
    for (let batch = 1; ; batch++) {
      if (ctx.signal.aborted) throw new Error(`stopped after purging ${purged} row(s)`);
      const n = await store.audit.purgeBatch(filter, purgeBatchSize);
      purged += n;
      if (n < purgeBatchSize) break;
      if (batch % 10 === 0) await ctx.log(`purged ${purged} row(s) so far`);
      // Let live requests' writes in between batches.
      await new Promise((r) => setImmediate(r));
    }
    await ctx.log(`purged ${purged} audit log row(s) in ${Date.now() - started} ms`);
  }

  private async find(id: number): Promise<ExecutionWithJob> {
    const e = await this.d.store.executions(purgeVendorType).findWithJob(id);
    if (!e) throw new AppError('NOT_FOUND', `purge job with id ${id} not found`);
    return e;
  }
}

function runOf(e: ExecutionWithJob): PurgeRun {
  return {
    id: e.id,
    trigger: e.trigger,
    status: e.job_status ? executionStatusOfJob[e.job_status] : e.status,
    parameters: JSON.parse(e.extra_attrs) as PurgeParameters,
    creationTime: e.start_time,
    updateTime: e.job_update_time ?? e.update_time,
  };
}
