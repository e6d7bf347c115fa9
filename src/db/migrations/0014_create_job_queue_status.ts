import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * What the job service dashboard reads and steers across nodes: whether a job kind's queue is paused
 * (Harbor's `job_queue_status`; workers skip paused kinds in the claim itself, so pausing holds on every
 * node), and one row per running worker pool, heartbeated, so any node can list every node's workers.
 */
export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('job_queue_status')
    .addColumn('id', ...id)
    .addColumn('job_type', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('job_worker_pool')
    .addColumn('id', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('host', 'varchar(255)', (c) => c.notNull())
    .addColumn('concurrency', 'integer', (c) => c.notNull())
    .addColumn('start_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('heartbeat_time', 'varchar(32)', (c) => c.notNull())
    .execute();
}
