import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../../test/helpers/databases.js';
import { bookwormLayer, DEBIAN12_FIXTURE_DIR } from '../../../../test/helpers/vulndb.js';
import type { BerthConfig } from '../../../config/schema.js';
import type { MetaStore } from '../../../db/store.js';
import { ScanPool } from './scan-pool.js';
import { runScanWork, type ScanWork } from './scan-work.js';
import { importVulnDb } from './vulndb-import.js';

const work: ScanWork = {
  type: 'vulnerability',
  layers: [{ digest: 'sha256:bookworm', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
  artifact: {
    repository: 'p/app',
    digest: 'sha256:image',
    mime_type: 'application/vnd.oci.image.manifest.v1+json',
  },
  now: '2026-01-01T00:00:00.000Z',
};
/** The layer's bytes in 64 KiB chunks, as a storage driver streams them. */
const open = () => {
  const gz = bookwormLayer();
  const chunks: Buffer[] = [];
  for (let i = 0; i < gz.length; i += 65536) chunks.push(gz.subarray(i, i + 65536));
  return Promise.resolve(Readable.from(chunks));
};
/** A layer whose bytes never come: a scan that runs until it is stopped. */
const hang = () => Promise.resolve(new Readable({ read() {} }));

/** Worker threads, and scanning processes (the memory driver's layers come to them chunk by chunk). */
const modes = {
  thread: { fill: true },
  process: { processes: { storage: { driver: 'memory' } as BerthConfig['storage'] } },
};

for (const dialect of testDialects())
  for (const [mode, options] of Object.entries(modes))
    describe(`ScanPool (${dialect}, ${mode})`, () => {
      let store: MetaStore;
      let database: TestDatabase;
      let pool: ScanPool;
      before(async () => {
        ({ store, database } = await createTestStore(dialect));
        await importVulnDb({ store }, DEBIAN12_FIXTURE_DIR);
        pool = new ScanPool({ size: 1, databaseUrl: database.url, ...options });
      });
      after(async () => {
        await pool.close();
        await database.close();
      });

      test('a scan in the worker thread reports what the same scan on the event loop reports', async () => {
        const here = await runScanWork(work, open, store);
        const there = await pool.run(work, open, new AbortController().signal);
        assert.ok(here.stored!.rows.length > 0);
        assert.deepEqual(there.stored, here.stored);
        assert.deepEqual(there.inventory, here.inventory);
        assert.deepEqual(there.db, here.db);
      });

      test('a stopped scan ends at once; scans waiting for the thread and after it still run', async () => {
        const stop = new AbortController();
        const stopped = pool.run(work, hang, stop.signal);
        const queued = pool.run({ ...work, type: 'sbom' }, open, new AbortController().signal);
        stop.abort();
        await assert.rejects(stopped, /stopped/);
        const sbom = await queued;
        assert.equal(sbom.stored, undefined);
        assert.ok(sbom.inventory!.packages.some((p) => p.name === 'bash'));
        const again = await pool.run(work, open, new AbortController().signal);
        assert.ok(again.stored!.rows.length > 0);
      });

      test("the thread or process writes the report into the work's reports and ends them Success", async () => {
        const mime = 'application/vnd.security.vulnerability.report; version=1.1';
        const report = await store.scanReports.create(
          { uuid: `u-${mode}`, digest: `sha256:${mode}`, registrationUuid: 'pool-test', mimeType: mime },
          work.now,
        );
        assert.ok(await store.scanReports.start(report.id, work.now));
        const here = await runScanWork(work, open, store);
        const done = await pool.run({ ...work, reports: [report.id] }, open, new AbortController().signal);
        assert.equal(done.stored, undefined, 'the report is not sent back to be written here');
        assert.deepEqual(done.filled, {
          severity: here.stored!.severity,
          total: here.stored!.counts.total,
          ended: [report.id],
        });
        const head = await store.scanReports.find(`sha256:${mode}`, 'pool-test', mime);
        assert.equal(head?.status, 'Success');
        assert.equal(
          (await store.scanReports.vulnerabilityIds([report.id])).length,
          here.stored!.rows.length,
        );
      });

      test('a layer that cannot be read fails the scan with its reason', async () => {
        const broken = () => Promise.resolve(Readable.from([Buffer.from('not gzip at all')]));
        await assert.rejects(pool.run(work, broken, new AbortController().signal), /header|gzip|incorrect/i);
      });
    });

/** This process's children whose command line names `what`. */
function childrenNamed(what: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(what))
        pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe(
  'ScanPool: a scanning process held back while the machine is busy (sqlite)',
  {
    skip: process.platform !== 'linux' && 'Linux only (/proc, SIGSTOP)',
  },
  () => {
    let store: MetaStore;
    let database: TestDatabase;
    let pool: ScanPool;
    const burners: ChildProcess[] = [];
    before(async () => {
      ({ store, database } = await createTestStore('sqlite'));
      await importVulnDb({ store }, DEBIAN12_FIXTURE_DIR);
      pool = new ScanPool({ size: 1, databaseUrl: database.url, ...modes.process, cpuShareWhenBusy: 0.2 });
      // The rest of the machine busy: two processes spinning, over half a core whatever else runs.
      for (let i = 0; i < 2; i++)
        burners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    });
    after(async () => {
      for (const b of burners) b.kill('SIGKILL');
      await pool.close();
      await database.close();
    });

    test('it is stopped for part of the time, ends its scan with the same report, and is left running', async () => {
      const here = await runScanWork(work, open, store);
      const states = new Set<string>();
      let watching = true;
      const watch = (async () => {
        while (watching) {
          for (const pid of childrenNamed('scan-worker'))
            try {
              states.add(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0]!);
            } catch {
              // ended
            }
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      const there = await pool.run(work, open, new AbortController().signal);
      // Scans back to back give the watch time to see the process between two of them, too.
      await pool.run(work, open, new AbortController().signal);
      watching = false;
      await watch;
      assert.deepEqual(there.stored, here.stored);
      assert.ok(
        states.has('T'),
        `the scanning process was stopped at times (states seen: ${[...states].join(',')})`,
      );
      const [pid] = childrenNamed('scan-worker');
      assert.ok(pid, 'the scanning process waits for the next scan');
      assert.notEqual(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0], 'T', 'not left stopped');
    });
  },
);
