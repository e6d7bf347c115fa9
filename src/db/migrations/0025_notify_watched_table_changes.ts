import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Issue 15: each node caches the push path's reads of projects, their metadata, policies and users
 * (db/read-cache.ts). On PostgreSQL every node listens on `berth_cache`; these triggers notify it after
 * any statement that writes one of those tables, whoever runs it (another node, a cascade, psql). A
 * notification is sent at commit, and identical ones in a transaction are sent once.
 *
 * SQLite needs nothing: the processes that share its file see each other's commits through
 * `PRAGMA data_version`.
 */
/** db/read-cache.ts's watchedTables as they stood at this migration (0026 counts writes to the same). */
export const tablesAt0025 = [
  'project',
  'project_metadata',
  'notification_policy',
  'replication_policy',
  'immutable_tag_rule',
  'p2p_preheat_policy',
  'harbor_user',
  'user_group',
  'user_group_member',
] as const;

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`
    create function berth_cache_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('berth_cache', tg_table_name);
      return null;
    end $$`.execute(db);
  for (const table of tablesAt0025) {
    await sql`
      create trigger ${sql.id(`${table}_changed`)}
      after insert or update or delete or truncate on ${sql.table(table)}
      for each statement execute function berth_cache_changed()`.execute(db);
  }
}
