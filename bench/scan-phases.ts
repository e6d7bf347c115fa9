/**
 * The scanning process's CPU by phase of a rescan, in one process (a harness, not a bench row): the bench's
 * 100 000 generated OSV records imported once into a SQLite file kept at $SCAN_PHASES_DB (default
 * /tmp/berth-scan-phases.db), then rescans of the bookworm image as the scanning process runs them (read
 * the layer or its reading, match, build the report, compile its statements, write them, detach the old
 * report and purge it). `node --import tsx bench/scan-phases.ts [rescans]`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { connect, sideConnectionCacheKiB } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { ScanReportRepo } from '../src/db/repos/scan-reports.js';
import { MetaStore } from '../src/db/store.js';
import { PhaseClock, runScanWork, type ScanWork } from '../src/services/scanning/builtin/scan-work.js';
import { importVulnDb } from '../src/services/scanning/builtin/vulndb-import.js';
import { bookwormLayer } from '../test/helpers/vulndb.js';
import { generatedDatabase } from './scanning.js';

const file = process.env.SCAN_PHASES_DB ?? '/tmp/berth-scan-phases.db';
const rescans = Number(process.argv[2] ?? 8);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const fresh = !existsSync(file);
const handle = connect({
  url: `sqlite:${file}`,
  poolMax: 1,
  acquireTimeoutMs: 30_000,
  cacheKiB: sideConnectionCacheKiB,
});
await migrateToLatest(handle.db as never, 'sqlite');
const store = new MetaStore(handle.db);
if (fresh) {
  const dir = mkdtempSync(join(os.tmpdir(), 'scan-phases-'));
  const zip = join(dir, 'all.zip');
  writeFileSync(zip, generatedDatabase(100_000));
  await importVulnDb({ store }, zip);
  rmSync(dir, { recursive: true, force: true });
}
const layer = bookwormLayer();
const digest = 'sha256:' + 'b'.repeat(64);
const work: ScanWork = {
  type: 'vulnerability',
  layers: [{ digest, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
  artifact: {
    repository: 'p/app',
    digest: 'sha256:image',
    mime_type: 'application/vnd.oci.image.manifest.v1+json',
  },
  now: new Date().toISOString(),
};
// The layer as a stored blob, so that its reading is kept (layer_inventory) as the server's rescans find it.
const now = new Date().toISOString();
await handle.db
  .insertInto('blob')
  .values({ digest, size: layer.length, creation_time: now, touch_time: now, ref_time: now, gc_mark: null })
  .onConflict((oc) => oc.column('digest').doNothing())
  .execute();
const repo = new ScanReportRepo(handle.db);
const mime = 'application/vnd.security.vulnerability.report; version=1.1';
const sums: Record<string, number[]> = {};
// A report of an earlier run of this harness is the first one replaced.
let previous = (await repo.find('sha256:image', 'harness', mime))?.id;
for (let i = 0; i < rescans + 1; i++) {
  if (previous !== undefined) await repo.detach(previous);
  const r = await repo.create(
    { uuid: `u${Date.now()}-${i}`, digest: 'sha256:image', registrationUuid: 'harness', mimeType: mime },
    work.now,
  );
  await repo.start(r.id, work.now);
  const clock = new PhaseClock(cpuMs);
  const result = await runScanWork(
    { ...work, reports: [r.id] },
    () => Promise.resolve(Readable.from([layer])),
    { vulnDb: store.vulnDb, layerInventories: store.layerInventories },
    async (reports, stored, log) => {
      const end = { log, endTime: new Date().toISOString() };
      const { severity, counts, scanner, document } = stored;
      const fills = reports.map((id) =>
        repo.fillStatements(id, { severity, counts, scanner, report: document }, stored.rows, end),
      );
      clock.mark('pack');
      for (const f of fills) await repo.runFill(f);
      clock.mark('write');
      return reports;
    },
    clock,
  );
  await repo.purgeDetached();
  clock.mark('purge');
  previous = r.id;
  if (i === 0) continue; // the first scan reads the layer and warms the database
  for (const [k, v] of Object.entries(result.cpuMs ?? {})) (sums[k] ??= []).push(v);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const out = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round(med(v))]));
console.log(
  JSON.stringify({
    rescans,
    medianCpuMs: out,
    all: Object.values(out).reduce((a, b) => a + b, 0),
    load: os.loadavg()[0],
  }),
);
await handle.close();
