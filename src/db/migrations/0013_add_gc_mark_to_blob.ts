import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * What online garbage collection needs on `blob` (docs/gc.md):
 * - `touch_time`: the last upload or mount of the blob; an unreferenced blob touched within the grace
 *   period belongs to a push still in flight and is kept.
 * - `ref_time`: the last time a manifest PUT referenced it; once a reference came after the last touch,
 *   the blob is free as soon as no artifact references it any more.
 * - `version`: bumped by every upload, mount and referencing manifest PUT, in their transaction; GC marks
 *   a blob only at the version it examined, so a concurrent writer always wins.
 * - `gc_mark`: set while GC deletes the bytes (null = live); writers wait for the row to go first.
 * - `manifest`: the blob holds manifest bytes (for GC's counts).
 */
export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .alterTable('blob')
    .addColumn('touch_time', 'varchar(32)', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.alterTable('blob').addColumn('ref_time', 'varchar(32)').execute();
  await db.schema
    .alterTable('blob')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('blob').addColumn('gc_mark', 'varchar(32)').execute();
  await db.schema
    .alterTable('blob')
    .addColumn('manifest', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update blob set touch_time = creation_time`.execute(db);
  // GC drops a blob's project links with its row (and the foreign key's cascade looks them up by blob).
  await db.schema.createIndex('project_blob_blob_idx').on('project_blob').column('blob_id').execute();
}
