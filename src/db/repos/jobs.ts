import {
  CompiledQuery,
  PostgresAdapter,
  sql,
  type Kysely,
  type RawBuilder,
  type SelectQueryBuilder,
} from 'kysely';
import type { Database, JobLogRow, JobRow, JobStatus } from '../tables.js';
import { prepared } from '../prepared.js';
import { plainInsert } from './plain-insert.js';

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

/** A job inserted with the outcome of a run that already happened (`JobRepo.insertRan`). */
export interface RanJob extends NewJob {
  status: JobStatus;
  attempts: number;
  lastError: string | null;
  creationTime: string;
  startTime: string | null;
  endTime: string | null;
}

/** A claim of several jobs at once, within the worker's free slots. */
export interface BatchClaimRequest extends ClaimRequest {
  /** Jobs claimed at most. */
  limit: number;
  /**
   * Slot pools (a kind that runs in a pool of its own, or '' for the shared one): how many jobs of each
   * pool's kinds may be claimed. A kind missing from `poolOf` is in the shared pool.
   */
  poolRoom: Record<string, number>;
  poolOf?: Record<string, string>;
  /** Jobs of a kind claimed at most (its own cap minus what runs here); absent: no cap beyond the pool's. */
  kindRoom?: Record<string, number>;
  /** Jobs of a group claimed at most: for groups running here, their room; for the others, their kind's cap. */
  groupRoom?: Record<string, number>;
  groupCap?: Record<string, number>;
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
      .values(jobValues(job, now))
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /**
   * One job, as plain SQL text run as it is (`plainInsert`): no query builder, no compilation, the
   * driver's prepared statement reused. For a job written on a hot path (the webhook event of each push).
   */
  async insertPlain(job: NewJob, now: string): Promise<void> {
    const columns = [
      ...['kind', 'payload', 'status', 'attempts', 'stop_requested', 'max_attempts', 'run_after'],
      ...['execution_id', 'group_key', 'creation_time', 'update_time'],
    ] as const;
    const head = [job.kind, job.payload, 'pending', 0, 0, job.maxAttempts, job.runAfter];
    const tail = [job.executionId ?? null, job.groupKey ?? null, now, now];
    await plainInsert(this.db, 'job', columns, [[...head, ...tail]]);
  }

  /** Several jobs in one statement. */
  async insertMany(jobs: NewJob[], now: string): Promise<void> {
    if (jobs.length === 0) return;
    await this.db
      .insertInto('job')
      .values(jobs.map((job) => jobValues(job, now)))
      .execute();
  }

  find(id: number): Promise<JobRow | undefined> {
    return this.db.selectFrom('job').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Whether a job of these kinds could be claimed now (pending and due, or running past its lease). */
  async hasRunnable(kinds: string[], now: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('job')
      .select('id')
      .where('kind', 'in', kinds)
      .where((w) =>
        w.or([
          w.and([w('status', '=', 'pending'), w('run_after', '<=', now)]),
          w.and([w('status', '=', 'running'), w('lease_until', '<', now)]),
        ]),
      )
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Takes the oldest runnable job of the given kinds (`claimBatch` of one). */
  async claim(req: ClaimRequest): Promise<JobRow | undefined> {
    const [row] = await this.claimBatch({ ...req, limit: 1, poolRoom: { '': 1 } });
    return row;
  }

  /**
   * Takes the oldest runnable jobs, as many as the worker's free slots allow: pending jobs whose time has
   * come, or running jobs whose lease expired (their worker died). One statement, so two claimers never
   * get the same row; on PostgreSQL `for update skip locked` lets concurrent claimers pass each other
   * instead of queueing. Within the batch, window functions keep each pool, kind and group to its room
   * (the candidates are locked one level down: PostgreSQL refuses `for update` beside a window function).
   * The rows come back oldest first.
   */
  async claimBatch(req: BatchClaimRequest): Promise<JobRow[]> {
    if (req.kinds.length === 0 || req.limit <= 0) return [];
    const postgres = this.db.getExecutor().adapter instanceof PostgresAdapter;
    const candidates = runnable(this.db, req.kinds, req.now)
      .select(['id', 'kind', 'group_key', 'run_after'])
      .$if((req.fullGroups?.length ?? 0) > 0, (s) =>
        s.where((w) => w.or([w('group_key', 'is', null), w('group_key', 'not in', req.fullGroups!)])),
      )
      .orderBy('run_after')
      .orderBy('id')
      // Enough rows for the room to be filled though some groups or kinds have little of it.
      .limit(Math.min(500, req.limit * 4))
      .$if(postgres, (q) => q.forUpdate().skipLocked());
    const pool = caseOf(sql.ref('kind'), req.poolOf ?? {}, sql.lit(''));
    const ranked = this.db
      .selectFrom(candidates.as('candidate'))
      .select([
        'id',
        'kind',
        'group_key',
        'run_after',
        sql<number>`row_number() over (partition by ${pool} order by run_after, id)`.as('pool_rank'),
        sql<number>`row_number() over (partition by kind order by run_after, id)`.as('kind_rank'),
        sql<number>`row_number() over (partition by group_key order by run_after, id)`.as('group_rank'),
      ]);
    const poolCap = caseOf(pool, req.poolRoom, sql.lit(0));
    const kindCap = caseOf(sql.ref('kind'), req.kindRoom ?? {}, sql.lit(req.limit));
    const groupCap = caseOf(
      sql.ref('group_key'),
      req.groupRoom ?? {},
      caseOf(sql.ref('kind'), req.groupCap ?? {}, sql.lit(req.limit)),
    );
    const chosen = this.db
      .selectFrom(ranked.as('ranked'))
      .select('id')
      .where(sql<boolean>`pool_rank <= ${poolCap}`)
      .where(sql<boolean>`kind_rank <= ${kindCap}`)
      .where((w) => w.or([w('group_key', 'is', null), sql<boolean>`group_rank <= ${groupCap}`]))
      .orderBy('run_after')
      .orderBy('id')
      .limit(req.limit);
    const rows = await this.take(chosen, req);
    return rows.sort((a, b) =>
      a.run_after < b.run_after ? -1 : a.run_after > b.run_after ? 1 : a.id - b.id,
    );
  }

  /**
   * Takes up to `limit` runnable jobs of one kind, oldest first, in one statement: `claimBatch` without
   * pools, caps or groups (the webhook delivery thread's events, claimed a batch at a time). The statement
   * is `runnable` and `take`'s, built and compiled once (db/prepared.ts): compiling the builder's statement
   * was half of the claim's CPU in the delivery thread.
   */
  async claimOfKind(
    kind: string,
    req: { owner: string; now: string; leaseUntil: string; limit: number },
  ): Promise<ClaimedJob[]> {
    if (req.limit <= 0) return [];
    const res = await claimOfKindQuery(this.db, req.owner, req.leaseUntil, req.now, kind, req.limit);
    return res.rows.sort((a, b) => a.id - b.id);
  }

  /** Claims the jobs `chosen` selects for `req.owner`, with a lease until `req.leaseUntil`. */
  private take<DB, TB extends keyof DB>(
    chosen: SelectQueryBuilder<DB, TB, { id: number }>,
    req: { owner: string; now: string; leaseUntil: string },
  ): Promise<JobRow[]> {
    return takeQuery(this.db, chosen, req).returningAll().execute();
  }

  /** Extends the leases of several running jobs of `owner` in one statement. */
  async extendLeases(ids: number[], owner: string, now: string, leaseUntil: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('job')
      .set({ lease_until: leaseUntil, heartbeat_time: now })
      .where('id', 'in', ids)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .execute();
  }

  /**
   * Jobs whose first run already happened elsewhere (a webhook delivery sent before its task was
   * written): inserted in one statement with their outcome, `pending` for one to run again. Their ids,
   * in the order of `jobs`.
   */
  async insertRan(jobs: RanJob[], now: string): Promise<number[]> {
    const columns = [
      ...['kind', 'payload', 'status', 'attempts', 'stop_requested', 'max_attempts', 'run_after'],
      ...['execution_id', 'group_key', 'last_error', 'creation_time', 'start_time', 'end_time'],
      'update_time',
    ] as const;
    return plainInsert(
      this.db,
      'job',
      columns,
      jobs.map((j) => [
        ...[j.kind, j.payload, j.status, j.attempts, 0, j.maxAttempts, j.runAfter, j.executionId ?? null],
        ...[j.groupKey ?? null, j.lastError, j.creationTime, j.startTime, j.endTime, now],
      ]),
      'id',
    );
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

  /** Log lines of several jobs in one statement per 500 (in order: ids follow the list). */
  async appendLogs(lines: { jobId: number; time: string; line: string }[]): Promise<void> {
    for (let i = 0; i < lines.length; i += 500)
      await plainInsert(
        this.db,
        'job_log',
        ['job_id', 'time', 'line'],
        lines.slice(i, i + 500).map((l) => [l.jobId, l.time, l.line]),
      );
  }

  /**
   * Ends several runs as succeeded in one statement; the ids whose lease was still ours. Plain SQL text
   * (one per count of ids), as the claim.
   */
  async finishSucceeded(ids: number[], owner: string, now: string): Promise<number[]> {
    if (ids.length === 0) return [];
    const postgres = this.db.getExecutor().adapter instanceof PostgresAdapter;
    const mark = postgres ? (i: number) => `$${i}` : () => '?';
    const marks = ids.map((_, i) => mark(i + 4)).join(', ');
    const text =
      `update job set status = 'succeeded', end_time = ${mark(1)}, update_time = ${mark(2)}, ` +
      `lease_until = null, last_error = null where lease_owner = ${mark(3)} and status = 'running' ` +
      `and id in (${marks}) returning id`;
    const res = await this.db.executeQuery<{ id: number }>(
      CompiledQuery.raw(text, [now, now, owner, ...ids]),
    );
    return res.rows.map((r) => Number(r.id));
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

/**
 * Jobs of `kinds` that may be claimed at `now`: pending and due, or running past their lease with tries
 * left. A paused queue (job service dashboard) is read in the same statement, so it holds on every node.
 */
function runnable(db: Kysely<Database>, kinds: readonly string[], now: string) {
  return db
    .selectFrom('job')
    .where('kind', 'in', kinds)
    .where('kind', 'not in', (s) =>
      s.selectFrom('job_queue_status').select('job_type').where('paused', '=', 1),
    )
    .where('stop_requested', '=', 0)
    .where((w) =>
      w.or([
        w.and([w('status', '=', 'pending'), w('run_after', '<=', now)]),
        w.and([
          w('status', '=', 'running'),
          w('lease_until', '<', now),
          w('attempts', '<', w.ref('max_attempts')),
        ]),
      ]),
    );
}

/** A job taken by `claimOfKind`: what its claimer reads of it. */
export type ClaimedJob = Pick<JobRow, 'id' | 'payload' | 'creation_time'>;

/** Claims the jobs `chosen` selects for `owner`, with a lease until `leaseUntil` (the statement). */
function takeQuery<DB, TB extends keyof DB>(
  db: Kysely<Database>,
  chosen: SelectQueryBuilder<DB, TB, { id: number }>,
  req: { owner: string; now: string; leaseUntil: string },
) {
  return db
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
    .where('id', 'in', chosen);
}

/** `claimOfKind`'s statement: the oldest runnable jobs of one kind, taken (PostgreSQL: locked, skipping locked ones). */
const claimOfKindQuery = prepared(
  (db, owner: string, leaseUntil: string, now: string, kind: string, limit: number) =>
    takeQuery(
      db,
      runnable(db, [kind], now)
        .select('id')
        .orderBy('run_after')
        .orderBy('id')
        .limit(limit)
        .$if(db.getExecutor().adapter instanceof PostgresAdapter, (q) => q.forUpdate().skipLocked()),
      { owner, now, leaseUntil },
      // What the delivery thread reads of an event: three columns, not an object of every column per row.
    ).returning(['id', 'payload', 'creation_time']),
);

/** `case <of> when k1 then v1 … else <otherwise> end`; just `otherwise` for an empty map. */
function caseOf(
  of: RawBuilder<unknown> | ReturnType<typeof sql.ref>,
  values: Record<string, string | number>,
  otherwise: RawBuilder<unknown> | ReturnType<typeof sql.lit>,
): RawBuilder<unknown> {
  const entries = Object.entries(values);
  if (entries.length === 0) return sql`${otherwise}`;
  const whens = entries.map(([k, v]) => sql`when ${k} then ${v}`);
  return sql`(case ${of} ${sql.join(whens, sql` `)} else ${otherwise} end)`;
}

function jobValues(job: NewJob, now: string) {
  return {
    kind: job.kind,
    payload: job.payload,
    status: 'pending' as const,
    attempts: 0,
    stop_requested: 0,
    max_attempts: job.maxAttempts,
    run_after: job.runAfter,
    execution_id: job.executionId ?? null,
    group_key: job.groupKey ?? null,
    creation_time: now,
    update_time: now,
  };
}
