import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * `notification_policy`: Harbor's project webhook policies (gone with the project). `targets` and
 * `event_types` are JSON text as Harbor stores them. Deliveries are executions (vendor WEBHOOK or SLACK,
 * vendor_id = policy id) with one
 * `webhook.deliver` job each.
 */
export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('notification_policy')
    .addColumn('id', ...id)
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('name', 'varchar(256)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('targets', 'text', (c) => c.notNull())
    .addColumn('event_types', 'text', (c) => c.notNull())
    .addColumn('creator', 'varchar(256)', (c) => c.notNull().defaultTo(''))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .addUniqueConstraint('notification_policy_project_name', ['project_id', 'name'])
    .execute();
  // A job's concurrency group (a webhook target): a worker runs at most the kind's cap of one group at
  // once, and skips a full group in the claim itself, so a slow receiver holds no more than its slots.
  await db.schema.alterTable('job').addColumn('group_key', 'varchar(512)').execute();
}
