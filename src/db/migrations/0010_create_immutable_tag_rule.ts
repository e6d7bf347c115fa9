import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * `immutable_tag_rule`: Harbor's tag immutability rules, per project (gone with the project). The
 * selectors are JSON text as the API carries them: `scope_selectors` ({repository: [selector]}) and
 * `tag_selectors` ([selector]).
 */
export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('immutable_tag_rule')
    .addColumn('id', ...id)
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('action', 'varchar(64)', (c) => c.notNull())
    .addColumn('template', 'varchar(64)', (c) => c.notNull())
    .addColumn('scope_selectors', 'text', (c) => c.notNull())
    .addColumn('tag_selectors', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('immutable_tag_rule_project')
    .on('immutable_tag_rule')
    .column('project_id')
    .execute();
}
