import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Registry endpoints (remote peers; the secret is sealed with AES-256-GCM) and replication policies.
 * Executions and tasks are the generic `execution` and `job` rows of 0003.
 */
export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('registry')
    .addColumn('id', ...id)
    .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('type', 'varchar(64)', (c) => c.notNull())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('credential_type', 'varchar(16)', (c) => c.notNull().defaultTo('basic'))
    .addColumn('access_key', 'varchar(1024)', (c) => c.notNull().defaultTo(''))
    .addColumn('access_secret', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('insecure', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('unknown'))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('replication_policy')
    .addColumn('id', ...id)
    .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('src_registry_id', 'integer', (c) => c.references('registry.id'))
    .addColumn('dest_registry_id', 'integer', (c) => c.references('registry.id'))
    .addColumn('dest_namespace', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('dest_namespace_replace_count', 'integer', (c) => c.notNull().defaultTo(-1))
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('filters', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('replicate_deletion', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('override', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('speed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('copy_by_chunk', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
}
