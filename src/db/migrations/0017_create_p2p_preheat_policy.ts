import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * `p2p_preheat_policy`: Harbor's per-project preheat policies (gone with the project). `filters`, `trigger`
 * and `extra_attrs` are JSON text as Harbor's API carries them. Runs are executions (vendor P2P_PREHEAT,
 * vendor_id = policy id) with one `preheat.artifact` job per artifact and tag.
 */
export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('p2p_preheat_policy')
    .addColumn('id', ...id)
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(1024)', (c) => c.notNull().defaultTo(''))
    .addColumn('provider_id', 'integer', (c) => c.notNull())
    .addColumn('filters', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('extra_attrs', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .addUniqueConstraint('p2p_preheat_policy_project_name', ['project_id', 'name'])
    .execute();
  await db.schema
    .createIndex('p2p_preheat_policy_provider')
    .on('p2p_preheat_policy')
    .column('provider_id')
    .execute();
}
