import type { BerthConfig } from './config/schema.js';
import { connect } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { MetaStore } from './db/store.js';
import { importVulnDb, VulnDbImportError } from './services/scanning/builtin/vulndb-import.js';

/**
 * `berth vulndb import <source>`: migrates the configured database, imports, and prints what happened
 * (progress on a terminal, skipped files on stderr). Returns the exit code: 0 imported or unchanged,
 * 1 when the source held nothing importable.
 */
export async function runVulnDbImport(config: BerthConfig, source: string): Promise<number> {
  const handle = connect({
    url: config.database.url,
    poolMax: 2,
    acquireTimeoutMs: config.database.pool.acquireTimeoutMs,
  });
  const tty = process.stdout.isTTY;
  const started = Date.now();
  try {
    await migrateToLatest(handle.db as never, handle.dialect);
    const store = new MetaStore(handle.db);
    const result = await importVulnDb({ store }, source, (p) => {
      if (tty) process.stdout.write(`\rimporting ${source}: ${p.records} records, ${p.skipped} skipped`);
    });
    if (tty) process.stdout.write('\n');
    for (const s of result.skipped) console.error(`skipped ${s.file}: ${s.reason}`);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      result.outcome === 'unchanged'
        ? `vulnerability database unchanged: ${result.records} records, version ${result.version} (imported ${result.importTime})`
        : `imported ${result.records} records (${result.entries} affected packages, ${result.withdrawn} withdrawn, ${result.skipped.length} skipped) in ${seconds} s; version ${result.version}`,
    );
    return 0;
  } catch (err) {
    if (tty) process.stdout.write('\n');
    if (err instanceof VulnDbImportError) {
      console.error(`berth: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await handle.close();
  }
}
