import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * `job_execution_idx` held an entry for every job, and most jobs have no execution: each webhook event
 * (`webhook.event`, one per push into a project with webhooks) is a job written in the push's transaction,
 * and its NULL entry was one more index page that transaction wrote (SQLite: a WAL frame, two write
 * calls). The index now holds the jobs that belong to an execution only; every read of it looks a job up
 * by `execution_id = …` (or joins on it), which implies `is not null`, so both engines still use it.
 */
export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema.dropIndex('job_execution_idx').execute();
  await sql`create index job_execution_idx on job (execution_id) where execution_id is not null`.execute(db);
}
