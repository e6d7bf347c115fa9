import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * The built-in scanner's vulnerability database, imported offline from OSV records (`berth vulndb
 * import`). Each import is a generation: its rows load under a new `vuln_db_import` row in state
 * `loading`, one transaction makes it `active` (and the previous one `retired`), then the retired rows
 * are deleted. Scans read the active generation only, so a half-loaded import is never seen.
 * `vuln_affected` is what matching reads, by (import, ecosystem, package name).
 */
export async function up(db: Kysely<unknown>, { id }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('vuln_db_import')
    .addColumn('id', ...id)
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('version', 'varchar(128)', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('record_count', 'integer', (c) => c.notNull())
    .addColumn('skipped_count', 'integer', (c) => c.notNull())
    .addColumn('import_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('vuln_advisory')
    .addColumn('import_id', 'integer', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('aliases', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('links', 'text', (c) => c.notNull())
    .addColumn('cwe_ids', 'text', (c) => c.notNull())
    .addColumn('modified', 'varchar(40)', (c) => c.notNull())
    .addPrimaryKeyConstraint('vuln_advisory_pk', ['import_id', 'id'])
    .execute();

  await db.schema
    .createTable('vuln_affected')
    .addColumn('import_id', 'integer', (c) => c.notNull())
    .addColumn('ecosystem', 'varchar(128)', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('vuln_id', 'text', (c) => c.notNull())
    .addColumn('ranges', 'text', (c) => c.notNull())
    .addColumn('versions', 'text', (c) => c.notNull())
    .addColumn('severity', 'varchar(16)', (c) => c.notNull())
    .addColumn('cvss', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('vuln_affected_lookup')
    .on('vuln_affected')
    .columns(['import_id', 'ecosystem', 'name'])
    .execute();
  // One active generation at most, whatever two importers do at once.
  await sql`create unique index vuln_db_import_one_active on vuln_db_import (state) where state = 'active'`.execute(
    db,
  );
}
