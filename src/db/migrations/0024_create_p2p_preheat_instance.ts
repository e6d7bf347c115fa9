import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * `p2p_preheat_instance`: Harbor's P2P provider instances (Dragonfly or Kraken) that preheat policies send
 * artifacts to. Names and endpoints are unique; `auth_data` (the credentials of `auth_mode`, as JSON) is
 * sealed with the database-held data key, as registry secrets are. At most one row is the default.
 */
export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('p2p_preheat_instance')
    .addColumn('id', ...id)
    .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(1024)', (c) => c.notNull().defaultTo(''))
    .addColumn('vendor', 'varchar(32)', (c) => c.notNull())
    .addColumn('endpoint', 'varchar(512)', (c) => c.notNull().unique())
    .addColumn('auth_mode', 'varchar(32)', (c) => c.notNull().defaultTo('NONE'))
    .addColumn('auth_data', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('insecure', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('setup_timestamp', 'bigint', (c) => c.notNull())
    .execute();
}
