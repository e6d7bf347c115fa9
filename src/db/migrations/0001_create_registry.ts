import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

export async function up(db: Kysely<unknown>, { id, bigint, name }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('project')
    .addColumn('id', ...id)
    .addColumn('name', name, (c) => c.notNull().unique())
    .addColumn('public', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('owner_id', 'integer')
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('repository')
    .addColumn('id', ...id)
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('name', name, (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('pull_count', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('repository_project_idx')
    .on('repository')
    .columns(['project_id', 'name'])
    .execute();

  await db.schema
    .createTable('blob')
    .addColumn('id', ...id)
    .addColumn('digest', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('size', bigint, (c) => c.notNull())
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('project_blob')
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('blob_id', 'integer', (c) => c.notNull().references('blob.id').onDelete('cascade'))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_blob_pk', ['project_id', 'blob_id'])
    .execute();

  await db.schema
    .createTable('artifact')
    .addColumn('id', ...id)
    .addColumn('repository_id', 'integer', (c) => c.notNull().references('repository.id').onDelete('cascade'))
    .addColumn('digest', 'varchar(255)', (c) => c.notNull())
    .addColumn('media_type', 'varchar(255)', (c) => c.notNull())
    .addColumn('artifact_type', 'varchar(255)')
    .addColumn('manifest_size', bigint, (c) => c.notNull())
    .addColumn('size', bigint, (c) => c.notNull())
    .addColumn('subject_digest', 'varchar(255)')
    .addColumn('config_digest', 'varchar(255)')
    .addColumn('annotations', 'text')
    .addColumn('push_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('pull_time', 'varchar(32)')
    .addUniqueConstraint('artifact_repository_digest_uq', ['repository_id', 'digest'])
    .execute();
  await db.schema
    .createIndex('artifact_subject_idx')
    .on('artifact')
    .columns(['repository_id', 'subject_digest'])
    .execute();
  await db.schema.createIndex('artifact_digest_idx').on('artifact').column('digest').execute();

  await db.schema
    .createTable('tag')
    .addColumn('id', ...id)
    .addColumn('repository_id', 'integer', (c) => c.notNull().references('repository.id').onDelete('cascade'))
    .addColumn('artifact_id', 'integer', (c) => c.notNull().references('artifact.id').onDelete('cascade'))
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('push_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('pull_time', 'varchar(32)')
    .addUniqueConstraint('tag_repository_name_uq', ['repository_id', 'name'])
    .execute();
  await db.schema.createIndex('tag_artifact_idx').on('tag').column('artifact_id').execute();

  await db.schema
    .createTable('artifact_blob')
    .addColumn('artifact_id', 'integer', (c) => c.notNull().references('artifact.id').onDelete('cascade'))
    .addColumn('blob_digest', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint('artifact_blob_pk', ['artifact_id', 'blob_digest'])
    .execute();
  await db.schema.createIndex('artifact_blob_digest_idx').on('artifact_blob').column('blob_digest').execute();

  await db.schema
    .createTable('artifact_reference')
    .addColumn('parent_id', 'integer', (c) => c.notNull().references('artifact.id').onDelete('cascade'))
    .addColumn('child_id', 'integer', (c) => c.notNull().references('artifact.id'))
    .addColumn('child_digest', 'varchar(255)', (c) => c.notNull())
    .addColumn('platform', 'text')
    .addPrimaryKeyConstraint('artifact_reference_pk', ['parent_id', 'child_digest'])
    .execute();
  await db.schema
    .createIndex('artifact_reference_child_idx')
    .on('artifact_reference')
    .column('child_id')
    .execute();

  await db.schema
    .createTable('upload')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('repository_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('size', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
}
