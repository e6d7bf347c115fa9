import type { Kysely } from 'kysely';
import type { Database, ExecutionRow, JobStatus } from '../tables.js';

/** An execution with the job that carries it out (one task per execution for system jobs). */
export interface ExecutionWithJob extends ExecutionRow {
  job_id: number | null;
  job_status: JobStatus | null;
  job_update_time: string | null;
  job_end_time: string | null;
}

/**
 * Harbor's execution records for system jobs (audit purge, GC): one row per run of a vendor type, its
 * parameters and results in `extra_attrs`; the run's status is its job's.
 */
/** Harbor's execution status words for the status of an execution's one job. */
export const executionStatusOfJob: Record<JobStatus, string> = {
  pending: 'Pending',
  running: 'Running',
  succeeded: 'Success',
  failed: 'Error',
  stopped: 'Stopped',
};

export class ExecutionRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(
    e: { vendorType: string; vendorId: number; trigger: string; extraAttrs: string },
    now: string,
  ): Promise<number> {
    const row = await this.db
      .insertInto('execution')
      .values({
        vendor_type: e.vendorType,
        vendor_id: e.vendorId,
        trigger: e.trigger,
        status: 'Pending',
        status_message: '',
        extra_attrs: e.extraAttrs,
        start_time: now,
        end_time: null,
        update_time: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Removes an execution (and, by cascade, its jobs). */
  async delete(vendorType: string, id: number): Promise<void> {
    await this.db
      .deleteFrom('execution')
      .where('vendor_type', '=', vendorType)
      .where('id', '=', id)
      .execute();
  }

  async setExtraAttrs(id: number, extraAttrs: string, now: string): Promise<void> {
    await this.db
      .updateTable('execution')
      .set({ extra_attrs: extraAttrs, update_time: now })
      .where('id', '=', id)
      .execute();
  }

  private withJob() {
    return this.db
      .selectFrom('execution')
      .leftJoin('job', 'job.execution_id', 'execution.id')
      .selectAll('execution')
      .select([
        'job.id as job_id',
        'job.status as job_status',
        'job.update_time as job_update_time',
        'job.end_time as job_end_time',
      ]);
  }

  find(vendorType: string, id: number): Promise<ExecutionWithJob | undefined> {
    return this.withJob()
      .where('execution.vendor_type', '=', vendorType)
      .where('execution.id', '=', id)
      .orderBy('job.id', 'desc')
      .executeTakeFirst();
  }

  /** Newest first. */
  async list(
    vendorType: string,
    page: { offset: number; limit: number },
  ): Promise<{ rows: ExecutionWithJob[]; total: number }> {
    const total = await this.db
      .selectFrom('execution')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('vendor_type', '=', vendorType)
      .executeTakeFirstOrThrow();
    const rows = await this.withJob()
      .where('execution.vendor_type', '=', vendorType)
      .orderBy('execution.id', 'desc')
      .offset(page.offset)
      .limit(page.limit)
      .execute();
    return { rows, total: Number(total.n) };
  }
}
