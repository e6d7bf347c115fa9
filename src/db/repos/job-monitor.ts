import type { Kysely } from 'kysely';
import type { Database, JobRow, JobWorkerPoolRow } from '../tables.js';

export interface QueueFigures {
  kind: string;
  /** Pending jobs, runnable now or later (retries waiting for their backoff included). */
  pending: number;
  /** run_after of the oldest pending job that is runnable now; null when none is. */
  oldestRunnable: string | null;
}

export type RunningJob = Pick<JobRow, 'id' | 'kind' | 'lease_owner' | 'start_time' | 'heartbeat_time'>;

/**
 * What the job service dashboard reads and steers: per-kind queue figures, the paused state of each
 * queue (kept here so every node's claim honours it), worker pools and the jobs they run.
 */
export class JobMonitorRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async queueFigures(now: string): Promise<QueueFigures[]> {
    const pending = await this.db
      .selectFrom('job')
      .select((eb) => ['kind', eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'pending')
      .where('stop_requested', '=', 0)
      .groupBy('kind')
      .execute();
    const runnable = await this.db
      .selectFrom('job')
      .select((eb) => ['kind', eb.fn.min('run_after').as('oldest')])
      .where('status', '=', 'pending')
      .where('stop_requested', '=', 0)
      .where('run_after', '<=', now)
      .groupBy('kind')
      .execute();
    const oldest = new Map(runnable.map((r) => [r.kind, r.oldest as string]));
    return pending.map((r) => ({
      kind: r.kind,
      pending: Number(r.n),
      oldestRunnable: oldest.get(r.kind) ?? null,
    }));
  }

  async pausedTypes(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('job_queue_status')
      .select('job_type')
      .where('paused', '=', 1)
      .execute();
    return new Set(rows.map((r) => r.job_type));
  }

  async isPaused(jobType: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('job_queue_status')
      .select('paused')
      .where('job_type', '=', jobType)
      .executeTakeFirst();
    return row?.paused === 1;
  }

  async setPaused(jobTypes: readonly string[], paused: boolean, now: string): Promise<void> {
    if (jobTypes.length === 0) return;
    await this.db
      .insertInto('job_queue_status')
      .values(jobTypes.map((t) => ({ job_type: t, paused: paused ? 1 : 0, update_time: now })))
      .onConflict((oc) =>
        oc.column('job_type').doUpdateSet((eb) => ({
          paused: eb.ref('excluded.paused'),
          update_time: eb.ref('excluded.update_time'),
        })),
      )
      .execute();
  }

  /** Stops every pending job of these kinds at once; returns how many. Running jobs are left alone. */
  async stopPending(kinds: readonly string[], now: string): Promise<number> {
    if (kinds.length === 0) return 0;
    const res = await this.db
      .updateTable('job')
      .set({ status: 'stopped', end_time: now, update_time: now })
      .where('status', '=', 'pending')
      .where('kind', 'in', [...kinds])
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async savePool(pool: JobWorkerPoolRow): Promise<void> {
    const { id: _id, ...rest } = pool;
    await this.db
      .insertInto('job_worker_pool')
      .values(pool)
      .onConflict((oc) => oc.column('id').doUpdateSet(rest))
      .execute();
  }

  async heartbeatPool(id: string, now: string): Promise<void> {
    await this.db.updateTable('job_worker_pool').set({ heartbeat_time: now }).where('id', '=', id).execute();
  }

  async deletePool(id: string): Promise<void> {
    await this.db.deleteFrom('job_worker_pool').where('id', '=', id).execute();
  }

  /** Pools that heartbeated since `since`; older rows (their process died) are deleted on the way. */
  async livePools(since: string): Promise<JobWorkerPoolRow[]> {
    await this.db.deleteFrom('job_worker_pool').where('heartbeat_time', '<', since).execute();
    return this.db.selectFrom('job_worker_pool').selectAll().orderBy('start_time').orderBy('id').execute();
  }

  /** Jobs running under these lease owners (pool ids), oldest first. */
  running(owners: readonly string[]): Promise<RunningJob[]> {
    if (owners.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('job')
      .select(['id', 'kind', 'lease_owner', 'start_time', 'heartbeat_time'])
      .where('status', '=', 'running')
      .where('lease_owner', 'in', [...owners])
      .orderBy('start_time')
      .orderBy('id')
      .execute();
  }

  /** Ids of every running job (stop "all"). */
  async runningIds(): Promise<number[]> {
    const rows = await this.db.selectFrom('job').select('id').where('status', '=', 'running').execute();
    return rows.map((r) => r.id);
  }
}
