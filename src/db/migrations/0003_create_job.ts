import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * The durable job queue, its logs, cron schedules, and Harbor's generic execution (one run of a policy:
 * replication, GC, retention, scan-all). A job with an execution_id is one of that execution's tasks.
 */
export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('execution')
    .addColumn('id', ...id)
    .addColumn('vendor_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('vendor_id', 'integer', (c) => c.notNull())
    .addColumn('trigger', 'varchar(32)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('status_message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('extra_attrs', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('start_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('end_time', 'varchar(32)')
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('execution_vendor_idx')
    .on('execution')
    .columns(['vendor_type', 'vendor_id'])
    .execute();

  await db.schema
    .createTable('job')
    .addColumn('id', ...id)
    .addColumn('kind', 'varchar(64)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_after', 'varchar(32)', (c) => c.notNull())
    .addColumn('lease_owner', 'varchar(128)')
    .addColumn('lease_until', 'varchar(32)')
    .addColumn('heartbeat_time', 'varchar(32)')
    .addColumn('stop_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('execution_id', 'integer', (c) => c.references('execution.id').onDelete('cascade'))
    .addColumn('last_error', 'text')
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('start_time', 'varchar(32)')
    .addColumn('end_time', 'varchar(32)')
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('job_claim_idx').on('job').columns(['status', 'run_after']).execute();
  await db.schema.createIndex('job_execution_idx').on('job').column('execution_id').execute();

  await db.schema
    .createTable('job_log')
    .addColumn('id', ...id)
    .addColumn('job_id', 'integer', (c) => c.notNull().references('job.id').onDelete('cascade'))
    .addColumn('time', 'varchar(32)', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('job_log_job_idx').on('job_log').columns(['job_id', 'id']).execute();

  await db.schema
    .createTable('schedule')
    .addColumn('id', ...id)
    .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('cron', 'varchar(128)', (c) => c.notNull())
    .addColumn('kind', 'varchar(64)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('next_fire_time', 'varchar(32)')
    .addColumn('last_fire_time', 'varchar(32)')
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  // One row per (schedule, fire time): whoever inserts it fires, so a fire happens once across nodes.
  await db.schema
    .createTable('schedule_fire')
    .addColumn('schedule_id', 'integer', (c) => c.notNull().references('schedule.id').onDelete('cascade'))
    .addColumn('fire_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('job_id', 'integer')
    .addPrimaryKeyConstraint('schedule_fire_pk', ['schedule_id', 'fire_time'])
    .execute();
}
