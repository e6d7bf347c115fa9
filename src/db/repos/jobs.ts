import { PostgresAdapter, type Kysely } from 'kysely';
import type { Database, JobLogRow, JobRow, JobStatus } from '../tables.js';

export interface NewJob {
  kind: string;
  payload: string;
  maxAttempts: number;
  runAfter: string;
  executionId?: number | null;
  groupKey?: string | null;
}

export interface ClaimRequest {
  owner: string;
  /** Only these kinds (the ones the worker has a free slot for). */
  kinds: string[];
  now: string;
  leaseUntil: string;
  /** Groups this worker runs its cap of already: their jobs are left for later. */
  fullGroups?: string[];
}

/**
 * Job rows. Every state change after the claim is guarded on the lease owner and `running`, so a worker
 * that lost its lease (it stalled, another node reclaimed the job) cannot overwrite the new owner's work.
 */
export class JobRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(job: NewJob, now: string): Promise<number> {
    const row = await this.db
      .insertInto('job')
      .values({
        kind: job.kind,
        payload: job.payload,
        status: 'pending',
        attempts: 0,
        stop_requested: 0,
        max_attempts: job.maxAttempts,
        run_after: job.runAfter,
        execution_id: job.executionId ?? null,
        group_key: job.groupKey ?? null,
        creation_time: now,
        update_time: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  find(id: number): Promise<JobRow | undefined> {
    return this.db.selectFrom('job').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Takes the oldest runnable job of the given kinds: a pending job whose time has come, or a running job
   * whose lease expired (its worker died). One statement, so two claimers never get the same row; on
   * PostgreSQL `for update skip locked` lets concurrent claimers pass each other instead of queueing.
   */
  async claim(req: ClaimRequest): Promise<JobRow | undefined> {
    if (req.kinds.length === 0) return undefined;
    const postgres = this.db.getExecutor().adapter instanceof PostgresAdapter;
    return this.db
      .updateTable('job')
      .set((eb) => ({
        status: 'running',
        lease_owner: req.owner,
        lease_until: req.leaseUntil,
        heartbeat_time: req.now,
        attempts: eb('attempts', '+', 1),
        start_time: eb.fn.coalesce('start_time', eb.val(req.now)),
        update_time: req.now,
      }))
      .where('id', '=', (eb) =>
        eb
          .selectFrom('job')
          .select('id')
          .where('kind', 'in', req.kinds)
          // A paused queue (job service dashboard) is read in the same statement, so it holds on every node.
          .where('kind', 'not in', (s) =>
            s.selectFrom('job_queue_status').select('job_type').where('paused', '=', 1),
          )
          .where('stop_requested', '=', 0)
          .$if((req.fullGroups?.length ?? 0) > 0, (s) =>
            s.where((w) => w.or([w('group_key', 'is', null), w('group_key', 'not in', req.fullGroups!)])),
          )
          .where((w) =>
            w.or([
              w.and([w('status', '=', 'pending'), w('run_after', '<=', req.now)]),
              w.and([
                w('status', '=', 'running'),
                w('lease_until', '<', req.now),
                w('attempts', '<', w.ref('max_attempts')),
              ]),
            ]),
          )
          .orderBy('run_after')
          .orderBy('id')
          .limit(1)
          .$if(postgres, (q) => q.forUpdate().skipLocked()),
      )
      .returningAll()
      .executeTakeFirst();
  }

  /** Makes a job a task of an execution created by its own handler (a run fired by a schedule). */
  async attachExecution(id: number, executionId: number, now: string): Promise<void> {
    await this.db
      .updateTable('job')
      .set({ execution_id: executionId, update_time: now })
      .where('id', '=', id)
      .execute();
  }

  /** Extends the lease. Undefined when the lease was lost; `stop` when a stop was requested. */
  async heartbeat(
    id: number,
    owner: string,
    now: string,
    leaseUntil: string,
  ): Promise<{ stop: boolean } | undefined> {
    const row = await this.db
      .updateTable('job')
      .set({ lease_until: leaseUntil, heartbeat_time: now })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .returning('stop_requested')
      .executeTakeFirst();
    return row && { stop: row.stop_requested === 1 };
  }

  /** Ends a run: succeeded, failed or stopped. False when the lease was no longer ours. */
  async finish(
    id: number,
    owner: string,
    status: Exclude<JobStatus, 'pending' | 'running'>,
    now: string,
    error: string | null = null,
  ): Promise<boolean> {
    const res = await this.db
      .updateTable('job')
      .set({ status, end_time: now, update_time: now, lease_until: null, last_error: error })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Puts a failed run back in the queue for another attempt at `runAfter`. */
  async retry(id: number, owner: string, runAfter: string, now: string, error: string): Promise<boolean> {
    const res = await this.db
      .updateTable('job')
      .set({
        status: 'pending',
        run_after: runAfter,
        lease_owner: null,
        lease_until: null,
        last_error: error,
        update_time: now,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Hands a job back untouched (graceful shutdown): the interrupted run does not count as an attempt. */
  async release(id: number, owner: string, now: string): Promise<void> {
    await this.db
      .updateTable('job')
      .set((eb) => ({
        status: 'pending',
        run_after: now,
        lease_owner: null,
        lease_until: null,
        attempts: eb('attempts', '-', 1),
        update_time: now,
      }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .execute();
  }

  /**
   * Asks a job to stop: a pending job is stopped at once, a running one is flagged and its worker aborts
   * it at the next heartbeat. Returns the status after the call, undefined for an unknown job.
   */
  async requestStop(id: number, now: string): Promise<JobStatus | undefined> {
    await this.db
      .updateTable('job')
      .set({ status: 'stopped', end_time: now, update_time: now })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
    await this.db
      .updateTable('job')
      .set({ stop_requested: 1, update_time: now })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
    return (await this.find(id))?.status;
  }

  /**
   * Settles running jobs whose worker died and that must not run again: out of attempts (failed) or asked
   * to stop (stopped). The others are reclaimed by `claim`.
   */
  async reapExpired(now: string): Promise<number> {
    const stopped = await this.db
      .updateTable('job')
      .set({ status: 'stopped', end_time: now, update_time: now, lease_until: null })
      .where('status', '=', 'running')
      .where('lease_until', '<', now)
      .where('stop_requested', '=', 1)
      .executeTakeFirst();
    const failed = await this.db
      .updateTable('job')
      .set({
        status: 'failed',
        end_time: now,
        update_time: now,
        lease_until: null,
        last_error:
          'the worker running this job stopped responding (its lease expired) and no attempts are left',
      })
      .where('status', '=', 'running')
      .where('lease_until', '<', now)
      .where((w) => w('attempts', '>=', w.ref('max_attempts')))
      .executeTakeFirst();
    return Number(stopped.numUpdatedRows) + Number(failed.numUpdatedRows);
  }

  async appendLog(jobId: number, time: string, line: string): Promise<void> {
    await this.db.insertInto('job_log').values({ job_id: jobId, time, line }).execute();
  }

  /** Log lines in order, paged by line id (`after` = the last id seen). */
  logs(jobId: number, after = 0, limit = 1000): Promise<JobLogRow[]> {
    return this.db
      .selectFrom('job_log')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
  }
}
