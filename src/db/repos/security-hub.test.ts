import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../store.js';

const scanner = 'scanner-1';
const mime = 'application/vnd.security.vulnerability.report; version=1.1';
const severities = ['None', 'Unknown', 'Low', 'Medium', 'High', 'Critical'];

/** [cve, package, CVSS v3 or null, severity code] */
type Row = [string, string, number | null, number];

async function seedReport(store: MetaStore, digest: string, rows: Row[], registration = scanner) {
  const now = '2025-01-01T00:00:00.000Z';
  const r = await store.scanReports.create(
    { uuid: `u-${registration}-${digest}`, digest, registrationUuid: registration, mimeType: mime },
    now,
  );
  await store.scanReports.finish(
    r.id,
    { status: 'Success', log: '', endTime: now },
    rows.map(([cve, pkg, score, code]) => ({
      cve_id: cve,
      package: pkg,
      version: '1.0',
      fix_version: '',
      severity: severities[code]!,
      severity_code: code,
      cvss_score_v3: score,
      cvss_score_v2: null,
      description: `${cve} in ${pkg} (${digest})`,
      links: '[]',
    })),
  );
}

for (const dialect of testDialects()) {
  describe(`SecurityHubRepo.dangerousCves on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());

    test('fewer than five groups: all of them, ranked', async () => {
      await seedReport(store, 'sha256:few', [
        ['CVE-9', 'a', 5, 3],
        ['CVE-8', 'a', 7.5, 4],
        ['CVE-7', 'a', null, 5],
      ]);
      assert.deepEqual(
        (await store.securityHub.dangerousCves(scanner)).map((c) => [c.cveId, c.cvssScoreV3]),
        [
          ['CVE-8', 7.5],
          ['CVE-9', 5],
        ],
      );
    });

    test("the top five groups over every report's rows: a group's severity counts rows scored below the fifth score, ties at it are ranked", async () => {
      // CVE-1's highest severity is on a row scored 7.0, under the fifth group's 8.8; CVE-5 and CVE-6 tie
      // at 8.8 and CVE-6 ranks first by its severity; a report of another scanner is not read.
      await seedReport(store, 'sha256:a', [
        ['CVE-1', 'pkg', 9.8, 4],
        ['CVE-2', 'pkg', 9.8, 4],
        ['CVE-4', 'pkg', 9.0, 5],
        ['CVE-5', 'pkg', 8.8, 3],
        ['CVE-7', 'pkg', 4.0, 2],
        ...Array.from({ length: 300 }, (_, i): Row => [`CVE-100${i}`, 'filler', 6.5, 3]),
      ]);
      await seedReport(store, 'sha256:b', [
        ['CVE-1', 'pkg', 7.0, 5],
        ['CVE-3', 'other', 9.8, 4],
        ['CVE-6', 'pkg', 8.8, 4],
        ['CVE-5', 'pkg', 8.8, 3],
      ]);
      await seedReport(store, 'sha256:c', [['CVE-0', 'pkg', 10, 5]], 'another-scanner');
      assert.deepEqual(
        (await store.securityHub.dangerousCves(scanner)).map((c) => [
          c.cveId,
          c.package,
          c.cvssScoreV3,
          c.severity,
        ]),
        [
          ['CVE-1', 'pkg', 9.8, 'High'],
          ['CVE-2', 'pkg', 9.8, 'High'],
          ['CVE-3', 'other', 9.8, 'High'],
          ['CVE-4', 'pkg', 9, 'Critical'],
          ['CVE-6', 'pkg', 8.8, 'High'],
        ],
      );
    });
  });
}
