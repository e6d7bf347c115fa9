import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import type { DbHandle } from '../connect.js';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../store.js';
import { ScanReportRepo, type NewScanVulnerability, type PlainStatement } from './scan-reports.js';

const scanner = 'scanner-fill';
const mime = 'application/vnd.security.vulnerability.report; version=1.1';
const now = '2026-12-05T12:00:00.000Z';
const counts = { critical: 600, high: 0, medium: 0, low: 0, none: 0, unknown: 0, fixable: 0, total: 600 };

const rows = (n: number): NewScanVulnerability[] =>
  Array.from({ length: n }, (_, i) => ({
    cve_id: `CVE-2026-${1000 + i}`,
    package: `pkg-${i}`,
    version: '1.0',
    fix_version: '1.1',
    severity: 'Critical',
    severity_code: 5,
    cvss_score_v3: 9.8,
    cvss_score_v2: null,
    description: `finding ${i}`,
    links: '[]',
  }));

// A document over the size from which documents are stored gzipped.
const document = JSON.stringify({ vulnerabilities: rows(600).map((r) => ({ ...r, text: 'x'.repeat(100) })) });

for (const dialect of testDialects()) {
  describe(`ScanReportRepo: the scanning process's fill in short statements, on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let handle: DbHandle;
    let repo: ScanReportRepo;
    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      // The scanning process's connection of its own.
      handle = database.open();
      repo = new ScanReportRepo(handle.db);
    });
    after(() => database.close());

    const running = async (digest: string) => {
      const r = await store.scanReports.create(
        { uuid: `u-${digest}`, digest, registrationUuid: scanner, mimeType: mime },
        now,
      );
      assert.ok(await store.scanReports.start(r.id, now));
      return r.id;
    };
    const fill = (id: number) =>
      repo.fillStatements(id, { severity: 'Critical', counts, scanner: '{}', report: document }, rows(600), {
        log: 'done\n',
        endTime: now,
      });
    // An attempt killed after writing its rows, before the report's end.
    const killedAfterRows = async (statements: PlainStatement[]) => {
      for (const q of statements) await handle.db.executeQuery(CompiledQuery.raw(q.sql, [...q.parameters]));
    };
    const rowCount = async (id: number) => (await store.scanReports.vulnerabilityIds([id])).length;

    test("the rows' INSERTs are the statements Kysely builds, batch by batch, nulls included", async () => {
      const vulns = rows(600).map((r, i) => ({ ...r, cvss_score_v3: i % 3 ? r.cvss_score_v3 : null }));
      const { rows: statements } = repo.fillStatements(
        7,
        { severity: 'Critical', counts, scanner: '{}', report: '{}' },
        vulns,
        { log: '', endTime: now },
      );
      const expected = [0, 250, 500].map((i) =>
        handle.db
          .insertInto('scan_vulnerability')
          .values(vulns.slice(i, i + 250).map((v) => ({ ...v, report_id: 7 })))
          .compile(),
      );
      assert.equal(statements.length, 3);
      statements.forEach((q, k) => {
        assert.equal(q.sql, expected[k]!.sql);
        assert.deepEqual(q.parameters, expected[k]!.parameters);
      });
    });

    test("rows written before the end are nobody's until it; a killed attempt's are cleared by the next", async () => {
      const id = await running('sha256:fill');
      const s = fill(id);
      assert.equal(s.rows.length, 3, 'the 600 rows go in three INSERTs');
      await killedAfterRows(s.rows);
      assert.equal(await rowCount(id), 600);
      assert.deepEqual(await store.securityHub.dangerousCves(scanner), [], 'rows of a Running report show');
      // The job's next attempt writes them again, whole, and ends the report.
      assert.equal(await repo.runFill(fill(id)), true);
      assert.equal(await rowCount(id), 600);
      const head = await store.scanReports.byUuid('u-sha256:fill');
      assert.equal(head?.status, 'Success');
      assert.equal(head?.critical_cnt, 600);
      assert.equal((await store.securityHub.dangerousCves(scanner)).length, 5);
      // Stored gzipped, read back as written.
      const raw = await handle.db
        .selectFrom('scan_report')
        .select('report')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.ok(raw.report!.startsWith('gzip:') && raw.report!.length < document.length / 4);
      assert.equal((await store.scanReports.documents([id])).get(id), document);
    });

    test('a rescan detaches the old report in one UPDATE: nobody reads it, its key is free, a purge removes it', async () => {
      const other = 'scanner-rescan';
      const digest = 'sha256:rescan';
      const reportOf = async (uuid: string) => {
        const r = await store.scanReports.create(
          { uuid, digest, registrationUuid: other, mimeType: mime },
          now,
        );
        assert.ok(await store.scanReports.start(r.id, now));
        assert.equal(await repo.runFill(fill(r.id)), true);
        return r.id;
      };
      const first = await reportOf('u-rescan-1');
      assert.equal((await store.securityHub.dangerousCves(other)).length, 5);
      await store.scanReports.detach(first);
      // Gone for every reader: by key, by digest, by uuid, the security hub, the project counts.
      assert.equal(await store.scanReports.find(digest, other, mime), undefined);
      assert.deepEqual(await store.scanReports.ofDigests([digest], other), []);
      assert.equal(await store.scanReports.byUuid('u-rescan-1'), undefined);
      assert.deepEqual(await store.securityHub.dangerousCves(other), []);
      assert.equal(await rowCount(first), 600, 'its rows wait for the purge');
      // The key is free for the new report, and a second rescan before any purge detaches that one too
      // (a process killed between a detach and its purge leaves the same: found by the next purge).
      const second = await reportOf('u-rescan-2');
      await store.scanReports.detach(second);
      const third = await reportOf('u-rescan-3');
      // The scanning process purges over its own connection, 250 rows to a statement.
      assert.equal(await repo.purgeDetached({ rows: 250, pauseMs: 1 }), 2);
      assert.equal(await rowCount(first), 0);
      assert.equal(await rowCount(second), 0);
      const left = await handle.db
        .selectFrom('scan_report')
        .select('id')
        .where('digest', '=', digest)
        .execute();
      assert.deepEqual(
        left.map((r) => r.id),
        [third],
      );
      assert.equal(await rowCount(third), 600, "the new report's rows are not touched");
      assert.equal((await store.scanReports.find(digest, other, mime))?.status, 'Success');
      assert.equal(await repo.purgeDetached(), 0, 'nothing left to purge');
    });

    test('a report stopped meanwhile is not ended, and keeps no rows', async () => {
      const id = await running('sha256:stopped');
      const s = fill(id);
      assert.ok(await store.scanReports.finish(id, { status: 'Stopped', log: 'stopped\n', endTime: now }));
      assert.equal(await repo.runFill(s), false);
      assert.equal(await rowCount(id), 0);
      assert.equal((await store.scanReports.byUuid('u-sha256:stopped'))?.status, 'Stopped');
    });

    test("a killed attempt's rows go when the job ends the report Error", async () => {
      const id = await running('sha256:killed');
      await killedAfterRows(fill(id).rows);
      assert.ok(await store.scanReports.finish(id, { status: 'Error', log: 'exited\n', endTime: now }));
      assert.equal(await rowCount(id), 0);
    });
  });
}
