import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Proxy-cache projects (docs/proxy-cache.md):
 * - `project.registry_id`: the registry endpoint a proxy-cache project pulls through (null: a normal project).
 * - `proxy_tag`: the last successful upstream check of a cached tag and the digest it answered; how long a
 *   tag may be served stale is measured from `checked_at`.
 * - `proxy_manifest`: manifests fetched from the upstream whose blobs are not all cached yet; the artifact
 *   row is written when the last one arrives (the row is then deleted).
 * - `proxy_index_child`: children an index lists that were not cached when the index was recorded; the
 *   index→child link is added when the child is.
 * - `proxy_fetch`: one row per blob being fetched from an upstream, claimed by one node until it expires, so
 *   two nodes never fetch the same blob for the same project at once.
 */
export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .alterTable('project')
    .addColumn('registry_id', 'integer', (c) => c.references('registry.id'))
    .execute();
  await db.schema
    .createTable('proxy_tag')
    .addColumn('repository', ctx.name, (c) => c.notNull())
    .addColumn('tag', ctx.name, (c) => c.notNull())
    .addColumn('digest', 'varchar(255)', (c) => c.notNull())
    .addColumn('checked_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('proxy_tag_pk', ['repository', 'tag'])
    .execute();
  await db.schema
    .createTable('proxy_manifest')
    .addColumn('project_id', 'integer', (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('repository', ctx.name, (c) => c.notNull())
    .addColumn('digest', 'varchar(255)', (c) => c.notNull())
    .addColumn('tag', ctx.name)
    .addColumn('operator', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('fetched_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('proxy_manifest_pk', ['repository', 'digest'])
    .execute();
  await db.schema
    .createTable('proxy_index_child')
    .addColumn('repository', ctx.name, (c) => c.notNull())
    .addColumn('parent_digest', 'varchar(255)', (c) => c.notNull())
    .addColumn('child_digest', 'varchar(255)', (c) => c.notNull())
    .addColumn('platform', 'text')
    .addPrimaryKeyConstraint('proxy_index_child_pk', ['repository', 'child_digest', 'parent_digest'])
    .execute();
  await db.schema
    .createTable('proxy_fetch')
    .addColumn('fetch_key', 'varchar(300)', (c) => c.primaryKey())
    .addColumn('owner', 'varchar(64)', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}
