import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Harbor API resources: labels (global ones have project_id 0, as in Harbor) and their attachment to
 * artifacts, per-project metadata (Harbor's key/value strings), storage quota limits, and the index the
 * artifact listing pages through.
 */
export async function up(db: Kysely<unknown>, { id, bigint }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('label')
    .addColumn('id', ...id)
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('color', 'varchar(32)', (c) => c.notNull().defaultTo(''))
    // 'g' global, 'p' project
    .addColumn('scope', 'char(1)', (c) => c.notNull())
    .addColumn('project_id', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .addUniqueConstraint('label_name_uq', ['name', 'scope', 'project_id'])
    .execute();
  await db.schema.createIndex('label_project_idx').on('label').column('project_id').execute();

  await db.schema
    .createTable('artifact_label')
    .addColumn('artifact_id', 'integer', (c) => c.notNull().references('artifact.id').onDelete('cascade'))
    .addColumn('label_id', 'integer', (c) => c.notNull().references('label.id').onDelete('cascade'))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('artifact_label_pk', ['artifact_id', 'label_id'])
    .execute();
  await db.schema.createIndex('artifact_label_label_idx').on('artifact_label').column('label_id').execute();

  await db.schema
    .createTable('project_metadata')
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_metadata_pk', ['project_id', 'name'])
    .execute();

  // One row per project with a limit; a project without a row has no limit (-1).
  await db.schema
    .createTable('quota')
    .addColumn('project_id', 'integer', (c) => c.primaryKey().references('project.id').onDelete('cascade'))
    .addColumn('hard_storage', bigint, (c) => c.notNull().defaultTo(-1))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  // Artifact pages: newest first within a repository, without sorting the whole repository.
  await db.schema
    .createIndex('artifact_repository_push_idx')
    .on('artifact')
    .columns(['repository_id', 'push_time', 'id'])
    .execute();
}
