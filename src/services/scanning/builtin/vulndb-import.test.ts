import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../../test/helpers/databases.js';
import {
  BOOKWORM_EXPECTED,
  BOOKWORM_SOURCES,
  bookwormImageLayers,
  DEBIAN12_FIXTURE_DIR,
  debian12Records,
} from '../../../../test/helpers/vulndb.js';
import { zipArchive } from '../../../../test/helpers/zip.js';
import type { MetaStore } from '../../../db/store.js';
import { inventoryImage } from './inventory/index.js';
import { matchInventory } from './scan-image.js';
import { openVulnDb } from './stored-vuln-db.js';
import { importVulnDb, VulnDbImportError } from './vulndb-import.js';

const lines = (r: Awaited<ReturnType<typeof matchInventory>>) =>
  r.vulnerabilities.map((v) => `${v.id} ${v.package} ${v.version} ${v.fix_version} ${v.severity}`);

for (const dialect of testDialects()) {
  describe(`vulnerability database import on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let dir: string;
    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      dir = mkdtempSync(join(tmpdir(), 'vulndb-import-'));
    });
    after(async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a directory imports, a scan reads it, and the same records again leave it unchanged', async () => {
      assert.equal(await openVulnDb(store), undefined, 'nothing imported yet');
      const first = await importVulnDb(
        { store, now: () => new Date('2025-01-01T00:00:00Z') },
        DEBIAN12_FIXTURE_DIR,
      );
      assert.equal(first.outcome, 'imported');
      assert.deepEqual([first.records, first.entries, first.withdrawn, first.skipped.length], [13, 13, 1, 0]);
      const db = (await openVulnDb(store))!;
      assert.deepEqual(await db.info(), {
        version: first.version,
        importedAt: '2025-01-01T00:00:00.000Z',
        source: 'osv-debian12',
        records: 13,
      });
      const again = await importVulnDb(
        { store, now: () => new Date('2025-02-01T00:00:00Z') },
        DEBIAN12_FIXTURE_DIR,
      );
      assert.equal(again.outcome, 'unchanged');
      assert.equal(again.version, first.version);
      assert.equal((await store.vulnDb.active())?.importTime, '2025-01-01T00:00:00.000Z');
      assert.deepEqual(await store.vulnDb.stale(), [], 'the second load was dropped');

      const inventory = await inventoryImage(bookwormImageLayers());
      const installed = new Map(inventory.packages.map((p) => [p.source!.name, p.source!.version]));
      for (const [name, version] of Object.entries(BOOKWORM_SOURCES))
        assert.equal(installed.get(name), version, name);
      assert.deepEqual(lines(await matchInventory(inventory, (await openVulnDb(store))!)), BOOKWORM_EXPECTED);
    });

    test('a zip replaces the active import whole; a corrupt record is skipped and named; nothing valid fails', async () => {
      const before = (await store.vulnDb.active())!;
      const records = debian12Records().filter((r) => !r.file.startsWith('DEBIAN-CVE-2025-6965'));
      const zip = join(dir, 'all.zip');
      writeFileSync(
        zip,
        zipArchive([
          ...records.map((r) => ({ path: r.file, content: JSON.stringify(r.record) })),
          { path: 'BROKEN-1.json', content: '{"id": "BROKEN-1", "affected": ' },
          { path: 'NO-ID.json', content: '{"affected": []}' },
          { path: 'README.txt', content: 'not a record' },
        ]),
      );
      const result = await importVulnDb({ store }, zip);
      assert.equal(result.outcome, 'imported');
      assert.equal(result.records, 12);
      assert.deepEqual(
        result.skipped.map((s) => s.file),
        ['BROKEN-1.json', 'NO-ID.json'],
      );
      assert.match(result.skipped[0]!.reason, /not JSON/);
      assert.match(result.skipped[1]!.reason, /no "id"/);
      const active = (await store.vulnDb.active())!;
      assert.notEqual(active.id, before.id);
      assert.notEqual(active.version, before.version);
      assert.deepEqual(
        await store.vulnDb.counts(before.id),
        { advisories: 0, affected: 0 },
        'old rows deleted',
      );
      assert.deepEqual(await store.vulnDb.counts(active.id), { advisories: 12, affected: 12 });
      const db = (await openVulnDb(store))!;
      assert.deepEqual(await db.affected('Debian:12', ['sqlite3']), [], 'the removed record is gone');
      assert.equal((await db.affected('Debian:12', ['openssl'])).length, 2);

      writeFileSync(join(dir, 'bad.json'), 'nope');
      await assert.rejects(importVulnDb({ store }, join(dir, 'bad.json')), VulnDbImportError);
      await assert.rejects(importVulnDb({ store }, join(dir, 'missing')), /no such file/);
      assert.equal((await store.vulnDb.active())!.id, active.id, 'a failed import changes nothing');
      assert.deepEqual(await store.vulnDb.stale(), []);
    });
  });
}
