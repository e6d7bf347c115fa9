import type { Kysely } from 'kysely';
import type { Database, ExecutionRow, JobRow, JobStatus } from '../tables.js';
import { windowTotal } from './list-filter.js';
import { plainInsert } from './plain-insert.js';

export type TaskCounts = Record<JobStatus, number>;

/** An execution with the job that carries it out (one task per execution for system jobs). */
export interface ExecutionWithJob extends ExecutionRow {
  job_id: number | null;
  job_status: JobStatus | null;
  job_update_time: string | null;
  job_end_time: string | null;
}

/** Harbor's execution status words for the status of an execution's one job. */
export const executionStatusOfJob: Record<JobStatus, string> = {
  pending: 'Pending',
  running: 'Running',
  succeeded: 'Success',
  failed: 'Error',
  stopped: 'Stopped',
};

/**
 * Harbor's executions of one vendor (REPLICATION, RETENTION, GARBAGE_COLLECTION, PURGE_AUDIT_LOG,
 * WEBHOOK, …) and the task jobs under them: one row per run, its parameters and results in `extra_attrs`.
 * Every query is narrowed to the vendor, so one vendor's API never shows another's execution.
 */
export class ExecutionRepo {
  constructor(
    private readonly db: Kysely<Database>,
    readonly vendor: string,
  ) {}

  /** A run starts InProgress, or Pending for a system job whose status is its job's (`status`). */
  create(
    vendorId: number,
    trigger: string,
    now: string,
    extraAttrs: object = {},
    status: 'InProgress' | 'Pending' = 'InProgress',
  ): Promise<ExecutionRow> {
    return this.db
      .insertInto('execution')
      .values({
        vendor_type: this.vendor,
        vendor_id: vendorId,
        trigger,
        status,
        status_message: '',
        extra_attrs: JSON.stringify(extraAttrs),
        start_time: now,
        update_time: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Several runs at once, in one statement; their ids in the order given. */
  async createMany(
    runs: { vendorId: number; trigger: string; extraAttrs: object; status: 'InProgress' | 'Pending' }[],
    now: string,
  ): Promise<number[]> {
    const columns = [
      ...['vendor_type', 'vendor_id', 'trigger', 'status', 'status_message', 'extra_attrs'],
      ...['start_time', 'update_time'],
    ] as const;
    return plainInsert(
      this.db,
      'execution',
      columns,
      runs.map((r) => [
        this.vendor,
        r.vendorId,
        r.trigger,
        r.status,
        '',
        JSON.stringify(r.extraAttrs),
        now,
        now,
      ]),
      'id',
    );
  }

  /**
   * Runs that ended with their one task run inline (migration 0022: the task's start and log on the
   * execution, no job row), in one statement per 200. `extraAttrs` is JSON text already.
   */
  async insertEnded(
    runs: {
      vendorId: number;
      trigger: string;
      status: string;
      statusMessage: string;
      extraAttrs: string;
      startTime: string;
      endTime: string;
      taskStartTime: string;
      taskLog: string;
    }[],
    now: string,
  ): Promise<void> {
    const columns = [
      ...['vendor_type', 'vendor_id', 'trigger', 'status', 'status_message', 'extra_attrs'],
      ...['start_time', 'end_time', 'update_time', 'task_start_time', 'task_log'],
    ] as const;
    for (let i = 0; i < runs.length; i += 200)
      await plainInsert(
        this.db,
        'execution',
        columns,
        runs
          .slice(i, i + 200)
          .map((r) => [
            ...[this.vendor, r.vendorId, r.trigger, r.status, r.statusMessage, r.extraAttrs],
            ...[r.startTime, r.endTime, now, r.taskStartTime, r.taskLog],
          ]),
      );
  }

  find(id: number): Promise<ExecutionRow | undefined> {
    return this.db
      .selectFrom('execution')
      .selectAll()
      .where('id', '=', id)
      .where('vendor_type', '=', this.vendor)
      .executeTakeFirst();
  }

  async list(opts: {
    vendorId?: number;
    trigger?: string;
    offset: number;
    limit: number;
  }): Promise<{ rows: ExecutionRow[]; total: number }> {
    let q = this.db.selectFrom('execution').where('vendor_type', '=', this.vendor);
    if (opts.vendorId !== undefined) q = q.where('vendor_id', '=', opts.vendorId);
    if (opts.trigger !== undefined) q = q.where('trigger', '=', opts.trigger);
    // A webhook delivery's execution is written after its request ended, a replication's when its
    // trigger fires: the page and its total from one statement.
    const page = await q
      .selectAll()
      .select((eb) => eb.fn.countAll<number>().over().as('total_rows'))
      .orderBy('id', 'desc')
      .offset(opts.offset)
      .limit(opts.limit)
      .execute();
    const total = await windowTotal(page, opts.offset, async () => {
      const c = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return c.n;
    });
    return { rows: page.map(({ total_rows: _, ...row }) => row), total };
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
      ])
      .where('execution.vendor_type', '=', this.vendor);
  }

  /** A system job's run with its (latest) job. */
  findWithJob(id: number): Promise<ExecutionWithJob | undefined> {
    return this.withJob().where('execution.id', '=', id).orderBy('job.id', 'desc').executeTakeFirst();
  }

  /** System jobs' runs with their jobs, newest first. */
  async listWithJob(page: {
    offset: number;
    limit: number;
  }): Promise<{ rows: ExecutionWithJob[]; total: number }> {
    const total = await this.db
      .selectFrom('execution')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('vendor_type', '=', this.vendor)
      .executeTakeFirstOrThrow();
    const rows = await this.withJob()
      .orderBy('execution.id', 'desc')
      .offset(page.offset)
      .limit(page.limit)
      .execute();
    return { rows, total: Number(total.n) };
  }

  async set(
    id: number,
    values: { status?: string; status_message?: string; end_time?: string | null; extra_attrs?: string },
    now: string,
  ): Promise<void> {
    await this.db
      .updateTable('execution')
      .set({ ...values, update_time: now })
      .where('id', '=', id)
      .where('vendor_type', '=', this.vendor)
      .execute();
  }

  /** Removes an execution (and, by cascade, its jobs). */
  async delete(id: number): Promise<void> {
    await this.db
      .deleteFrom('execution')
      .where('vendor_type', '=', this.vendor)
      .where('id', '=', id)
      .execute();
  }

  async deleteByVendorId(vendorId: number): Promise<void> {
    await this.db
      .deleteFrom('execution')
      .where('vendor_type', '=', this.vendor)
      .where('vendor_id', '=', vendorId)
      .execute();
  }

  /** Task counts by job status, per execution. */
  async taskCounts(executionIds: number[]): Promise<Map<number, TaskCounts>> {
    const out = new Map<number, TaskCounts>();
    if (executionIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('job')
      .select(['execution_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('execution_id', 'in', executionIds)
      .groupBy(['execution_id', 'status'])
      .execute();
    for (const id of executionIds)
      out.set(id, { pending: 0, running: 0, succeeded: 0, failed: 0, stopped: 0 });
    for (const r of rows) out.get(r.execution_id!)![r.status] = Number(r.n);
    return out;
  }

  /** The latest end time among an execution's tasks. */
  async lastTaskEnd(executionId: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('job')
      .select((eb) => eb.fn.max('end_time').as('t'))
      .where('execution_id', '=', executionId)
      .executeTakeFirst();
    return (row?.t as string | null | undefined) ?? null;
  }

  async listTasks(
    executionId: number,
    opts: { offset: number; limit: number; status?: JobStatus },
  ): Promise<{ rows: JobRow[]; total: number }> {
    let q = this.db.selectFrom('job').where('execution_id', '=', executionId);
    if (opts.status) q = q.where('status', '=', opts.status);
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id').offset(opts.offset).limit(opts.limit).execute();
    return { rows, total: Number(total.n) };
  }

  /** Ids of the execution's tasks that have not ended. */
  async openTasks(executionId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('job')
      .select('id')
      .where('execution_id', '=', executionId)
      .where('status', 'in', ['pending', 'running'])
      .execute();
    return rows.map((r) => r.id);
  }
}
