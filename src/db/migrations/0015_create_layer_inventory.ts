import type { Kysely } from 'kysely';

/**
 * `layer_inventory`: what the built-in scanner read from one layer (issue 17), so that a rescan (a new
 * vulnerability database, scan all, a stopped scan run again) only matches: the layer's package files'
 * findings, its whiteouts and opaque markers and its notes, before the image's layers are applied in
 * order (services/scanning/builtin/inventory/layer-reading.ts). One row per layer digest, in the metadata
 * database so every node and scanning process shares it. `version` names the reading's code version, the
 * layer's compression and the scanner's limits: a row of another version is read as absent and
 * overwritten. `reading` is JSON, gzipped and base64'd from 64 KiB (`gzip:`, as scan reports).
 * A row goes with its blob's row when garbage collection deletes the blob (db/repos/gc.ts), and is
 * written only while the blob is live, so the table holds at most one row per stored blob.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('layer_inventory')
    .addColumn('digest', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('version', 'varchar(128)', (c) => c.notNull())
    .addColumn('reading', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .execute();
}
