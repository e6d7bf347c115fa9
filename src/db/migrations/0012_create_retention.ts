import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Tag retention: one policy per project (the project's `retention_id` metadata names it, as Harbor keeps
 * it), and the outcome of each per-repository task. Executions and tasks are the generic `execution` and
 * `job` rows of 0003 (vendor RETENTION).
 */
export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('retention_policy')
    .addColumn('id', ...id)
    .addColumn('project_id', 'integer', (c) =>
      c.notNull().unique().references('project.id').onDelete('cascade'),
    )
    .addColumn('algorithm', 'varchar(16)', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  // What a finished task counted: the artifacts it saw and how many it kept.
  await db.schema
    .createTable('retention_task')
    .addColumn('job_id', 'integer', (c) => c.primaryKey().references('job.id').onDelete('cascade'))
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('retained', 'integer', (c) => c.notNull())
    .execute();
}
