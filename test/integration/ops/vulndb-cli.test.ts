import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { MetaStore } from '../../../src/db/store.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../helpers/databases.js';
import { run, runFailing } from '../../helpers/exec.js';
import { DEBIAN12_FIXTURE_DIR, debian12Records } from '../../helpers/vulndb.js';
import { zipArchive } from '../../helpers/zip.js';

const mainTs = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));
const berth = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', mainTs, ...args], { timeout: 120_000 });

for (const dialect of testDialects()) {
  describe(`berth vulndb import on ${dialect}`, () => {
    let database: TestDatabase;
    let dir: string;
    let target: string[];
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vulndb-cli-'));
      database = await createTestDatabase(dialect);
      // SQLite through --data (the embedded default), PostgreSQL through --config.
      const config = join(dir, 'berth.yaml');
      writeFileSync(config, `database:\n  url: ${database.url}\n`);
      target = dialect === 'sqlite' ? ['--data', join(dir, 'data')] : ['--config', config];
      if (dialect === 'sqlite') await database.close();
    });
    after(async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const activeImport = async () => {
      const url = dialect === 'sqlite' ? `sqlite:${join(dir, 'data', 'berth.db')}` : database.url;
      const { connect } = await import('../../../src/db/connect.js');
      const handle = connect({ url, poolMax: 1, acquireTimeoutMs: 5000 });
      try {
        return await new MetaStore(handle.db).vulnDb.active();
      } finally {
        await handle.close();
      }
    };

    test('imports a zip, names a corrupt record, replaces on re-import and reports an unchanged one', async () => {
      const zip = join(dir, 'all.zip');
      const files = debian12Records().map((r) => ({ path: r.file, content: JSON.stringify(r.record) }));
      writeFileSync(zip, zipArchive([...files, { path: 'CORRUPT-1.json', content: '{"id":' }]));
      const first = await berth(['vulndb', 'import', zip, ...target]);
      assert.match(
        first.stdout,
        /^imported 13 records \(13 affected packages, 1 withdrawn, 1 skipped\) in [\d.]+ s; version osv-[0-9a-f]{16}\n$/,
      );
      assert.match(first.stderr, /^skipped CORRUPT-1\.json: not JSON/m);
      const zipped = (await activeImport())!;
      assert.deepEqual([zipped.source, zipped.recordCount, zipped.skippedCount], ['all.zip', 13, 1]);

      const dirImport = await berth(['vulndb', 'import', DEBIAN12_FIXTURE_DIR, ...target]);
      assert.match(dirImport.stdout, /^imported 13 records/);
      const fromDir = (await activeImport())!;
      assert.notEqual(fromDir.id, zipped.id, 'the directory replaced the zip');
      assert.equal(fromDir.source, 'osv-debian12');

      const same = await berth(['vulndb', 'import', DEBIAN12_FIXTURE_DIR, ...target]);
      assert.match(
        same.stdout,
        new RegExp(`^vulnerability database unchanged: 13 records, version ${fromDir.version} `),
      );
      assert.equal((await activeImport())!.id, fromDir.id);

      const bad = await runFailing(process.execPath, [
        '--import',
        'tsx',
        mainTs,
        'vulndb',
        'import',
        join(dir, 'berth.yaml'),
        ...target,
      ]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /is neither a directory nor a zip archive/);
      assert.equal((await activeImport())!.id, fromDir.id);
    });
  });
}
