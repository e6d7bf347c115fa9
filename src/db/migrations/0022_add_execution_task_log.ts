import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Issue 18: a webhook delivery that ended at its first try (sent, or failed with no try left) is recorded
 * as its execution row alone, which carries its one task: the task's start time and its log text. Before,
 * each such delivery also wrote a finished `webhook.deliver` job and a `job_log` row (three rows, four
 * index entries and two foreign-key checks per delivery, in the delivery thread's transaction that holds
 * SQLite's write lock). The API answers the same executions, tasks and logs from either form
 * (services/webhooks/webhook-deliveries.ts); rows written before keep their jobs and logs and answer as
 * before. Null on every other execution.
 */
export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('execution').addColumn('task_start_time', 'varchar(32)').execute();
  await db.schema.alterTable('execution').addColumn('task_log', 'text').execute();
}
