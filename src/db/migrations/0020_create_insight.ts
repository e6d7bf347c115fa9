import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Activity insights: daily aggregates written from the domain event stream, so reading a trend never
 * scans the audit log. Counters are only ever added to (`insert … on conflict do update set n = n +
 * excluded.n`), so any number of nodes can flush their batches into the same rows. Days are UTC dates
 * (`YYYY-MM-DD`); repositories are kept by name, so a deleted repository keeps its history.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('insight_repository_day')
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('repository', ctx.name, (c) => c.notNull())
    .addColumn('pushes', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('pulls', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('deletes', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('push_bytes', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('pull_bytes', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('insight_repository_day_pk', ['day', 'project_id', 'repository'])
    .execute();
  await db.schema
    .createIndex('insight_repository_day_project')
    .on('insight_repository_day')
    .columns(['project_id', 'day'])
    .execute();

  // Who pushed or pulled, per project and day: active users, and the most active ones.
  await db.schema
    .createTable('insight_user_day')
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('username', ctx.name, (c) => c.notNull())
    .addColumn('pushes', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('pulls', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('insight_user_day_pk', ['day', 'project_id', 'username'])
    .execute();

  // A snapshot of each project's quota usage, overwritten during the day and kept after it.
  await db.schema
    .createTable('insight_storage_day')
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('used_bytes', ctx.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('insight_storage_day_pk', ['day', 'project_id'])
    .execute();

  // Vulnerabilities found per project and day, by severity (filled by scanning's ScanCompleted event).
  await db.schema
    .createTable('insight_vulnerability_day')
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('critical', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('high', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('medium', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('low', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('unknown', ctx.bigint, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('insight_vulnerability_day_pk', ['day', 'project_id'])
    .execute();
}
