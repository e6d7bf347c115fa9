import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Database, ScheduleRow } from '../tables.js';

export interface ScheduleSpec {
  name: string;
  cron: string;
  kind: string;
  payload: string;
  enabled: boolean;
}

const schedulerLockKey = 0x62657275; // serialises scheduler ticks across nodes on PostgreSQL

/** Cron schedules and the fire claims that make each fire happen once. */
export class ScheduleRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Only one node's scheduler works at a time: a transaction-scoped advisory lock on PostgreSQL (the
   * others skip the tick). SQLite is single-node and its write lock already serialises ticks.
   */
  async tryLockScheduler(): Promise<boolean> {
    if (!(this.db.getExecutor().adapter instanceof PostgresAdapter)) return true;
    const res = await sql<{
      locked: boolean;
    }>`select pg_try_advisory_xact_lock(${schedulerLockKey}) as locked`.execute(this.db);
    return res.rows[0]?.locked === true;
  }

  /** Creates or updates the schedule called `spec.name`; `nextFire` is recomputed by the caller. */
  async upsert(spec: ScheduleSpec, nextFire: string | null, now: string): Promise<ScheduleRow> {
    const values = {
      cron: spec.cron,
      kind: spec.kind,
      payload: spec.payload,
      enabled: spec.enabled ? 1 : 0,
      next_fire_time: nextFire,
      update_time: now,
    };
    return this.db
      .insertInto('schedule')
      .values({ ...values, name: spec.name, creation_time: now })
      .onConflict((oc) => oc.column('name').doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  findByName(name: string): Promise<ScheduleRow | undefined> {
    return this.db.selectFrom('schedule').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** Every schedule, by id (the dashboard's list). */
  async list(page: { offset: number; limit: number }): Promise<{ rows: ScheduleRow[]; total: number }> {
    const total = await this.db
      .selectFrom('schedule')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const rows = await this.db
      .selectFrom('schedule')
      .selectAll()
      .orderBy('id')
      .offset(page.offset)
      .limit(page.limit)
      .execute();
    return { rows, total: Number(total.n) };
  }

  async deleteByName(name: string): Promise<boolean> {
    const res = await this.db.deleteFrom('schedule').where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Enabled schedules whose next fire time has come. */
  due(now: string): Promise<ScheduleRow[]> {
    return this.db
      .selectFrom('schedule')
      .selectAll()
      .where('enabled', '=', 1)
      .where('next_fire_time', '<=', now)
      .orderBy('next_fire_time')
      .execute();
  }

  /** Claims one fire of a schedule. True for exactly one caller per (schedule, fire time). */
  async claimFire(scheduleId: number, fireTime: string): Promise<boolean> {
    const row = await this.db
      .insertInto('schedule_fire')
      .values({ schedule_id: scheduleId, fire_time: fireTime, job_id: null })
      .onConflict((oc) => oc.columns(['schedule_id', 'fire_time']).doNothing())
      .returning('schedule_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async recordFire(scheduleId: number, fireTime: string, jobId: number): Promise<void> {
    await this.db
      .updateTable('schedule_fire')
      .set({ job_id: jobId })
      .where('schedule_id', '=', scheduleId)
      .where('fire_time', '=', fireTime)
      .execute();
  }

  /** Moves a schedule past a fire, unless another node already did. */
  async advance(id: number, fired: string, next: string | null, now: string): Promise<void> {
    await this.db
      .updateTable('schedule')
      .set({ next_fire_time: next, last_fire_time: fired, update_time: now })
      .where('id', '=', id)
      .where('next_fire_time', '=', fired)
      .execute();
  }

  /** Fire claims older than `before` are no longer needed to deduplicate anything. */
  async pruneFires(before: string): Promise<void> {
    await this.db.deleteFrom('schedule_fire').where('fire_time', '<', before).execute();
  }
}
