import { sql, type ColumnDataType, type ColumnDefinitionBuilder, type Kysely, type RawBuilder } from 'kysely';
import type { Dialect } from '../connect.js';
import * as m0001 from './0001_create_registry.js';
import * as m0002 from './0002_create_identity.js';
import * as m0003 from './0003_create_job.js';
import * as m0004 from './0004_create_api_resources.js';
import * as m0005 from './0005_create_replication.js';
import * as m0006 from './0006_add_admin_in_auth.js';
import * as m0009 from './0009_create_setting.js';
import * as m0010 from './0010_create_immutable_tag_rule.js';
import * as m0011 from './0011_add_quota_usage.js';
import * as m0012 from './0012_create_retention.js';
import * as m0014 from './0014_create_job_queue_status.js';
import * as m0015 from './0015_create_layer_inventory.js';
import * as m0013 from './0013_add_gc_mark_to_blob.js';
import * as m0018 from './0018_create_vuln_db.js';
import * as m0020 from './0020_create_insight.js';
import * as m0019 from './0019_create_notification_policy.js';
import * as m0021 from './0021_create_proxy_cache.js';
import * as m0022 from './0022_add_execution_task_log.js';
import * as m0023 from './0023_create_scan_report.js';
import * as m0027 from './0027_create_scanner_registration.js';
import * as m0028 from './0028_create_proxy_referrer_page.js';
import * as m0028b from './0028b_index_scan_vulnerability_cvss.js';
import * as m0029 from './0029_partial_job_execution_index.js';
import * as m0024 from './0024_create_p2p_preheat_instance.js';
import * as m0017 from './0017_create_p2p_preheat_policy.js';
import * as m0025 from './0025_notify_watched_table_changes.js';
import * as m0026 from './0026_count_watched_table_changes.js';

/** What a migration needs to write DDL that both SQLite and PostgreSQL accept. */
export interface MigrationContext {
  dialect: Dialect;
  /** An auto-increment integer primary key column: `.addColumn('id', ...id)`. */
  id: [ColumnDataType, (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder];
  bigint: ColumnDataType;
  /** A name compared byte-wise (tag and repository listings sort like distribution's on either dialect). */
  name: ColumnDataType | RawBuilder<unknown>;
}

type Step = { up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> };

/** Numbered, forward-only. Append; never edit a migration that has shipped. */
const steps: Record<string, Step> = {
  '0001_create_registry': m0001,
  '0002_create_identity': m0002,
  '0003_create_job': m0003,
  '0004_create_api_resources': m0004,
  '0005_create_replication': m0005,
  '0006_add_admin_in_auth': m0006,
  '0009_create_setting': m0009,
  '0010_create_immutable_tag_rule': m0010,
  '0011_add_quota_usage': m0011,
  '0012_create_retention': m0012,
  '0014_create_job_queue_status': m0014,
  '0013_add_gc_mark_to_blob': m0013,
  '0015_create_layer_inventory': m0015,
  '0020_create_insight': m0020,
  '0019_create_notification_policy': m0019,
  '0018_create_vuln_db': m0018,
  '0021_create_proxy_cache': m0021,
  '0022_add_execution_task_log': m0022,
  '0023_create_scan_report': m0023,
  '0027_create_scanner_registration': m0027,
  '0028b_index_scan_vulnerability_cvss': m0028b,
  '0024_create_p2p_preheat_instance': m0024,
  '0017_create_p2p_preheat_policy': m0017,
  '0025_notify_watched_table_changes': m0025,
  '0028_create_proxy_referrer_page': m0028,
  '0026_count_watched_table_changes': m0026,
  '0029_partial_job_execution_index': m0029,
};

/** Migrations by name, bound to a dialect. */
export type MigrationList = Record<string, { up(db: Kysely<unknown>): Promise<void> }>;

export function migrations(dialect: Dialect): MigrationList {
  const ctx: MigrationContext = {
    dialect,
    id:
      dialect === 'postgres'
        ? ['serial', (c) => c.primaryKey()]
        : ['integer', (c) => c.primaryKey().autoIncrement()],
    bigint: 'bigint',
    name: dialect === 'postgres' ? sql`varchar(255) collate "C"` : 'varchar(255)',
  };
  return Object.fromEntries(
    Object.entries(steps).map(([name, step]) => [name, { up: (db: Kysely<unknown>) => step.up(db, ctx) }]),
  );
}
