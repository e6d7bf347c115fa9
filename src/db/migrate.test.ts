import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createTestDatabase, testDialects, type TestDatabase } from '../../test/helpers/databases.js';
import type { Dialect } from './connect.js';
import { assertSchemaCurrent, migrateToLatest, SchemaVersionError } from './migrate.js';
import { migrations, type MigrationList } from './migrations/index.js';

async function tableNames(db: Kysely<unknown>, dialect: Dialect): Promise<string[]> {
  const q =
    dialect === 'sqlite'
      ? sql<{
          name: string;
        }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`
      : sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = 'public'`;
  return (await q.execute(db)).rows.map((r) => r.name).sort();
}

async function appliedNames(db: Kysely<unknown>): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from berth_migration order by name`.execute(db);
  return rows.rows.map((r) => r.name);
}

const registryTables = [
  'artifact',
  'artifact_blob',
  'artifact_label',
  'artifact_reference',
  'audit_log',
  'auth_failure',
  'berth_migration',
  'blob',
  'cache_epoch',
  'cve_allowlist',
  'execution',
  'harbor_user',
  'immutable_tag_rule',
  'insight_repository_day',
  'insight_storage_day',
  'insight_user_day',
  'insight_vulnerability_day',
  'job',
  'job_log',
  'job_queue_status',
  'job_worker_pool',
  'label',
  'layer_inventory',
  'notification_policy',
  'p2p_preheat_instance',
  'p2p_preheat_policy',
  'project',
  'project_blob',
  'project_member',
  'project_metadata',
  'project_scanner',
  'proxy_fetch',
  'proxy_index_child',
  'proxy_manifest',
  'proxy_referrer_page',
  'proxy_tag',
  'quota',
  'registry',
  'replication_policy',
  'repository',
  'retention_policy',
  'retention_task',
  'robot',
  'robot_permission',
  'scan_report',
  'scan_vulnerability',
  'scanner_registration',
  'schedule',
  'schedule_fire',
  'secret_key',
  'setting',
  'tag',
  'ui_session',
  'upload',
  'user_group',
  'user_group_member',
  'vuln_advisory',
  'vuln_affected',
  'vuln_db_import',
];

for (const dialect of testDialects()) {
  describe(`migrateToLatest on ${dialect}`, () => {
    let database: TestDatabase;
    let db: Kysely<unknown>;
    beforeEach(async () => {
      database = await createTestDatabase(dialect);
      db = database.open().db as unknown as Kysely<unknown>;
    });
    afterEach(() => database.close());

    /** Berth's migrations followed by `extra`. */
    const withExtra = (extra: MigrationList): MigrationList => ({ ...migrations(dialect), ...extra });

    test('creates the registry tables on an empty database', async () => {
      const { applied } = await migrateToLatest(db, dialect);
      assert.deepEqual(applied, Object.keys(migrations(dialect)).sort());
      assert.deepEqual(await tableNames(db, dialect), registryTables);
    });

    test('migrating twice is a no-op', async () => {
      await migrateToLatest(db, dialect);
      await sql`insert into project (name, public, creation_time, update_time) values ('p', 0, 't', 't')`.execute(
        db,
      );
      const again = await migrateToLatest(db, dialect);
      assert.deepEqual(again.applied, []);
      assert.deepEqual(await tableNames(db, dialect), registryTables);
      assert.deepEqual(await appliedNames(db), Object.keys(migrations(dialect)).sort());
      const rows = await sql<{ name: string }>`select name from project`.execute(db);
      assert.deepEqual(
        rows.rows.map((r) => r.name),
        ['p'],
      );
    });

    test('a failing migration leaves the database as it was and the error names it', async () => {
      await migrateToLatest(db, dialect);
      await sql`insert into project (name, public, creation_time, update_time) values ('kept', 0, 't', 't')`.execute(
        db,
      );
      const broken = withExtra({
        '0900_add_widget': {
          async up(trx) {
            await trx.schema.createTable('widget').addColumn('id', 'integer').execute();
            await trx.schema.alterTable('project').addColumn('colour', 'varchar(20)').execute();
            await sql`update project set name = 'changed'`.execute(trx);
            await sql`insert into no_such_table (x) values (1)`.execute(trx);
          },
        },
      });
      await assert.rejects(migrateToLatest(db, dialect, broken), (err: Error) => {
        assert.match(err.message, /migration 0900_add_widget failed/);
        assert.match(err.message, /no_such_table/);
        return true;
      });
      assert.deepEqual(await tableNames(db, dialect), registryTables);
      assert.deepEqual(await appliedNames(db), Object.keys(migrations(dialect)).sort());
      const rows = await sql<Record<string, unknown>>`select * from project`.execute(db);
      assert.deepEqual(
        rows.rows.map((r) => r.name),
        ['kept'],
      );
      assert.equal('colour' in rows.rows[0]!, false, 'the added column was rolled back');
    });

    test('migrations run in name order and stop at the first failure; a fixed release continues', async () => {
      const order: string[] = [];
      const step = (name: string, fail = false) => ({
        async up(trx: Kysely<unknown>) {
          order.push(name);
          await trx.schema.createTable(`t_${name}`).addColumn('id', 'integer').execute();
          if (fail) throw new Error(`boom in ${name}`);
        },
      });
      const first = withExtra({ '0903_c': step('c'), '0901_a': step('a'), '0902_b': step('b', true) });
      await assert.rejects(migrateToLatest(db, dialect, first), /migration 0902_b failed.*boom in b/);
      assert.deepEqual(order, ['a', 'b']);
      assert.ok((await tableNames(db, dialect)).includes('t_a'));
      assert.ok(!(await tableNames(db, dialect)).includes('t_b'));

      order.length = 0;
      const fixed = withExtra({ '0903_c': step('c'), '0901_a': step('a'), '0902_b': step('b') });
      const { applied } = await migrateToLatest(db, dialect, fixed);
      assert.deepEqual(applied, ['0902_b', '0903_c']);
      assert.deepEqual(order, ['b', 'c']);
    });

    test('refuses a database that a newer Berth migrated, saying what to do', async () => {
      const newer = withExtra({ '0999_from_a_newer_release': { up: async () => {} } });
      await migrateToLatest(db, dialect, newer);
      const latest = Object.keys(migrations(dialect)).sort().at(-1)!;
      const expected = new RegExp(
        `the database schema is at migration 0999_from_a_newer_release but this Berth knows up to ${latest}: upgrade Berth on this node`,
      );
      await assert.rejects(migrateToLatest(db, dialect), (err: Error) => {
        assert.ok(err instanceof SchemaVersionError);
        assert.match(err.message, expected);
        return true;
      });
      await assert.rejects(assertSchemaCurrent(db, dialect), expected);
    });

    test('a node told not to migrate refuses a schema that lacks migrations, and accepts a current one', async () => {
      await assert.rejects(
        assertSchemaCurrent(db, dialect),
        /lacks \d+ migration\(s\) .*database\.migrate is false: run `berth migrate` once/,
      );
      await migrateToLatest(db, dialect);
      await assertSchemaCurrent(db, dialect);
    });

    test('job_execution_idx holds only jobs of an execution, and lookups by execution still use it', async () => {
      await migrateToLatest(db, dialect);
      const now = new Date().toISOString();
      const job = (executionId: number | null) =>
        sql`insert into job (kind, payload, status, attempts, max_attempts, run_after, execution_id, creation_time, update_time)
            values ('gc', '{}', 'pending', 0, 1, ${now}, ${executionId}, ${now}, ${now})`.execute(db);
      await sql`insert into execution (vendor_type, vendor_id, trigger, status, start_time, update_time)
                values ('GC', 0, 'MANUAL', 'Running', ${now}, ${now})`.execute(db);
      const { rows } = await sql<{ id: number }>`select id from execution`.execute(db);
      const executionId = rows[0]!.id;
      for (let i = 0; i < 50; i++) await job(null);
      await job(executionId);
      if (dialect === 'sqlite') {
        const plan = await sql<{
          detail: string;
        }>`explain query plan select id from job where execution_id = ${executionId}`.execute(db);
        assert.match(plan.rows.map((r) => r.detail).join('\n'), /USING (COVERING )?INDEX job_execution_idx/);
        // The index's own rows: one, the job with an execution (the 50 without have no entry).
        const entries = await sql<{
          n: number;
        }>`select count(*) as n from job indexed by job_execution_idx where execution_id > ${0}`.execute(db);
        assert.equal(Number(entries.rows[0]!.n), 1);
        const def = await sql<{
          sql: string;
        }>`select sql from sqlite_master where name = 'job_execution_idx'`.execute(db);
        assert.match(def.rows[0]!.sql, /where execution_id is not null/i);
      } else {
        await db.transaction().execute(async (tx) => {
          await sql`set local enable_seqscan = off`.execute(tx);
          const plan = await sql<{
            'QUERY PLAN': string;
          }>`explain select id from job where execution_id = ${executionId}`.execute(tx);
          assert.match(plan.rows.map((r) => r['QUERY PLAN']).join('\n'), /job_execution_idx/);
        });
        const def = await sql<{
          indexdef: string;
        }>`select indexdef from pg_indexes where indexname = 'job_execution_idx'`.execute(db);
        assert.match(def.rows[0]!.indexdef, /WHERE \(execution_id IS NOT NULL\)/);
      }
      const found = await sql<{ id: number }>`select id from job where execution_id = ${executionId}`.execute(
        db,
      );
      assert.equal(found.rows.length, 1);
    });

    if (dialect === 'postgres') {
      test('nodes migrating at once apply each migration exactly once', async () => {
        const others = [database.open(2), database.open(2), database.open(2)];
        const runs = await Promise.all(
          [db, ...others.map((h) => h.db as unknown as Kysely<unknown>)].map((h) =>
            migrateToLatest(h, dialect),
          ),
        );
        const applied = runs.flatMap((r) => r.applied).sort();
        assert.deepEqual(applied, Object.keys(migrations(dialect)).sort());
        assert.deepEqual(await tableNames(db, dialect), registryTables);
      });
    }
  });
}
