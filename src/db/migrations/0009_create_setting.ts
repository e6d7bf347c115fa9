import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * `setting`: Harbor's runtime settings (/api/v2.0/configurations) that live in the database, one row per
 * key with its value as JSON text. A key without a row has its default.
 */
export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('setting')
    .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
}
