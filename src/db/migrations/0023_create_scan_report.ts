import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Scanning (issue 17).
 *
 * `scan_report`: one report per (artifact digest, scanner registration, report MIME type), as Harbor keys
 * them, so a result is reused by every tag, repository and project holding the digest. It carries its
 * own status (Pending, Running, Success, Error, Stopped), the job that runs it, the scan's log, the
 * report document (JSON text, Harbor's report for vulnerabilities) and the counts by severity that the
 * overview, the pull policy and insights read without parsing it.
 *
 * `scan_vulnerability`: the report's vulnerabilities as rows (gone with the report), for what queries
 * across reports: the security hub (`/security/summary`, `/security/vul` with its `q` filters) and the
 * CVE export. `severity_code` is Harbor's code (None 0 … Critical 5) for "at or above" and ordering.
 *
 * `cve_allowlist`: Harbor's CVE allowlists: project_id 0 is the system's, else a project's (kept unless
 * the project says `reuse_sys_cve_allowlist`). `items` is JSON `[{"cve_id": …}]`, `expires_at` Unix
 * seconds or null for never.
 */
export async function up(db: Kysely<unknown>, { id, bigint }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('scan_report')
    .addColumn('id', ...id)
    .addColumn('uuid', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('digest', 'varchar(255)', (c) => c.notNull())
    .addColumn('registration_uuid', 'varchar(64)', (c) => c.notNull())
    .addColumn('mime_type', 'varchar(255)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('job_id', 'integer')
    .addColumn('severity', 'varchar(16)', (c) => c.notNull().defaultTo(''))
    .addColumn('critical_cnt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('high_cnt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('medium_cnt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('low_cnt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('none_cnt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unknown_cnt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('fixable_cnt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('total_cnt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('scanner', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('report', 'text')
    .addColumn('log', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('start_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('end_time', 'varchar(32)')
    .addUniqueConstraint('scan_report_key', ['digest', 'registration_uuid', 'mime_type'])
    .execute();

  await db.schema
    .createTable('scan_vulnerability')
    .addColumn('report_id', 'integer', (c) => c.notNull().references('scan_report.id').onDelete('cascade'))
    .addColumn('cve_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('package', 'varchar(512)', (c) => c.notNull())
    .addColumn('version', 'varchar(255)', (c) => c.notNull())
    .addColumn('fix_version', 'varchar(255)', (c) => c.notNull())
    .addColumn('severity', 'varchar(16)', (c) => c.notNull())
    .addColumn('severity_code', 'integer', (c) => c.notNull())
    .addColumn('cvss_score_v3', 'double precision')
    .addColumn('cvss_score_v2', 'double precision')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('links', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('scan_vulnerability_report')
    .on('scan_vulnerability')
    .column('report_id')
    .execute();
  await db.schema.createIndex('scan_vulnerability_cve').on('scan_vulnerability').column('cve_id').execute();
  await db.schema
    .createIndex('scan_vulnerability_package')
    .on('scan_vulnerability')
    .column('package')
    .execute();

  await db.schema
    .createTable('cve_allowlist')
    .addColumn('id', ...id)
    .addColumn('project_id', 'integer', (c) => c.notNull().unique())
    .addColumn('expires_at', bigint)
    .addColumn('items', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'varchar(32)', (c) => c.notNull())
    .addColumn('update_time', 'varchar(32)', (c) => c.notNull())
    .execute();
}
