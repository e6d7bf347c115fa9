/**
 * The built-in scanner's scanning process (services/scanning/builtin/scan-pool.ts forks it, niced as a
 * whole) or worker thread (the same pool when the process cannot be used): runs scans, reading the layers
 * through a storage driver of its own made from the server's `storage` config (or, for the memory driver,
 * chunk by chunk from the server), the vulnerability database over a connection of its own (SQLite's WAL
 * lets it read and write beside the server's connection; PostgreSQL gives it one more session), and, in
 * the process, writing the report and its vulnerability rows and ending the reports Success there too
 * (ScanReportRepo.fillStatements, in short statements), then deleting the reports a rescan replaced
 * (ScanReportRepo.purgeDetached), so the server only learns the outcome and publishes the event.
 */
import { readdirSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import type { BerthConfig } from './config/schema.js';
import { connect, sideConnectionCacheKiB, type DbHandle } from './db/connect.js';
import { ScanReportRepo } from './db/repos/scan-reports.js';
import { VulnDbRepo } from './db/repos/vuln-db.js';
import { LayerInventoryRepo } from './db/repos/layer-inventories.js';
import type { FromScanWorker, ToScanWorker } from './services/scanning/builtin/scan-pool.js';
import { PhaseClock, runScanWork, type ReportFiller } from './services/scanning/builtin/scan-work.js';
import { WriteGate } from './services/scanning/builtin/write-gate.js';
import type { StorageDriver } from './storage/driver.js';
import { createConfiguredDriver } from './storage/drivers.js';
import { layout } from './storage/layout.js';
import { collectGarbage } from './lib/collect-garbage.js';
import { capYoungGeneration } from './lib/young-generation.js';

/**
 * Scans are background work. In a thread this lowers the thread's priority only (on Linux the event loop
 * that serves pulls keeps its own); in the scanning process every thread is lowered (V8's helper threads
 * were started before this code ran; threads started later inherit it), so the scan yields the CPU to
 * the requests, its garbage collection included.
 */
function lowerPriority(): void {
  const tids = parentPort ? [0] : [0, ...listThreads()];
  for (const tid of tids) {
    try {
      setPriority(tid, constants.priority.PRIORITY_LOW);
    } catch {
      // not permitted here, or the thread ended: it runs at the process's priority
    }
  }
}

function listThreads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [];
  }
}

const channel = parentPort
  ? {
      send: (m: FromScanWorker) => parentPort!.postMessage(m),
      on: (f: (m: ToScanWorker) => void) => parentPort!.on('message', f),
    }
  : {
      send: (m: FromScanWorker) => void process.send!(m),
      on: (f: (m: ToScanWorker) => void) => process.on('message', f),
    };
lowerPriority();
// V8's flags are the process's: a scan thread leaves the young generation to the server's own cap.
if (!parentPort) capYoungGeneration();

let db:
  | {
      url: string;
      handle: DbHandle;
      vulnDb: VulnDbRepo;
      layerInventories: LayerInventoryRepo;
      /** Kept from scan to scan: it keeps the rows' INSERT statements it built. */
      reports: ScanReportRepo;
    }
  | undefined;
let storage: { key: string; driver: Promise<StorageDriver> } | undefined;
const layers = new Map<number, Readable>();
let opened = 0;

function database(url: string) {
  if (db?.url !== url) {
    const handle = connect({ url, poolMax: 1, acquireTimeoutMs: 30_000, cacheKiB: sideConnectionCacheKiB });
    db = {
      url,
      handle,
      vulnDb: new VulnDbRepo(handle.db),
      layerInventories: new LayerInventoryRepo(handle.db),
      reports: new ScanReportRepo(handle.db),
    };
  }
  return db;
}

function driver(config: BerthConfig['storage']): Promise<StorageDriver> {
  const key = JSON.stringify(config);
  if (storage?.key !== key) storage = { key, driver: createConfiguredDriver(config) };
  return storage.driver;
}

/** A layer's bytes as the inventory reads them: each read asks the server for one more chunk. */
function layerStream(digest: string): Readable {
  const id = opened++;
  const stream = new Readable({ read: () => channel.send({ kind: 'pull', stream: id, digest }) });
  layers.set(id, stream);
  return stream;
}

/** This process's CPU time so far (ms, all its threads): the time it was stopped or asleep does not count. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Each write statement runs inside a grant of the server's CPU governor (write-gate.ts), which never stops
 * this process inside one and counts what it used meanwhile. Governed only in a scanning process whose
 * governor is on (the pool says so with each scan); a thread's statements run at once.
 */
const gate = new WriteGate({
  ask: () => channel.send({ kind: 'writing', on: true }),
  done: () => channel.send({ kind: 'writing', on: false }),
  cpuMs,
});

/**
 * Writes the report into each of the scan's reports still pending or running and ends them, in short
 * statements compiled before the first runs (ScanReportRepo.fillStatements: on SQLite each holds the
 * file's write lock, which the serving process's next write waits for); answers those it ended.
 */
function filler(url: string, clock: PhaseClock | undefined): ReportFiller {
  return async (reports, stored, log) => {
    const { severity, counts, scanner, document } = stored;
    const end = { log, endTime: new Date().toISOString() };
    const repo = database(url).reports;
    const statements = reports.map((id) => ({
      id,
      fill: repo.fillStatements(id, { severity, counts, scanner, report: document }, stored.rows, end),
    }));
    clock?.mark('pack');
    const ended: number[] = [];
    for (const s of statements) if (await repo.runFill(s.fill, (q) => gate.run(q))) ended.push(s.id);
    clock?.mark('write');
    return ended;
  };
}

let purging: Promise<unknown> = Promise.resolve();

/**
 * Deletes the reports a rescan replaced (ScanReportRepo.detach) and their rows, at this process's
 * priority, in short statements, rather than in the server's `POST …/scan`: after the scan's outcome is
 * sent, so neither the scan's end nor the next scan waits for it (at nice 19 on a loaded machine it
 * takes seconds of wall time; the next scan's statements share the connection with it meanwhile). A
 * purge cut short (the process killed, an error) leaves them to the next. Its CPU goes to the server
 * with the next scan's outcome (`purgeCpuMs`).
 */
function purgeReplaced(url: string): void {
  // Counted inside its statements: the next scan runs beside it, on the same thread.
  const counted = async <T>(q: () => Promise<T>): Promise<T> => {
    const started = cpuMs();
    try {
      return await q();
    } finally {
      const ms = cpuMs() - started;
      purgeCpuMs += ms;
      scanClock?.exclude(ms);
    }
  };
  purging = purging
    .then(() =>
      database(url).reports.purgeDetached({
        pauseMs: 5,
        gate: (q) => gate.run(() => counted(q)),
      }),
    )
    .catch(() => 0);
}
let purgeCpuMs = 0;
/** The running scan's phase clock (a purge's CPU is taken out of it). */
let scanClock: PhaseClock | undefined;

channel.on((m: ToScanWorker) => {
  if (m.kind === 'write') return gate.granted(m.budgetMs);
  if (m.kind === 'chunk') {
    const stream = layers.get(m.stream);
    if (!stream) return;
    if (m.error) stream.destroy(new Error(m.error));
    else if (m.end) stream.push(null);
    else stream.push(Buffer.from(m.data!.buffer, m.data!.byteOffset, m.data!.byteLength));
    return;
  }
  lowerPriority();
  gate.governed = m.governed === true;
  // process.cpuUsage() is the process's: a thread's figures would be the server's.
  const clock = parentPort ? undefined : new PhaseClock(cpuMs);
  scanClock = clock;
  const own = m.storage;
  runScanWork(
    m.work,
    own
      ? async (digest) => (await driver(own)).read(layout.blob(digest))
      : (d) => Promise.resolve(layerStream(d)),
    {
      get vulnDb() {
        return database(m.databaseUrl).vulnDb;
      },
      get layerInventories() {
        return database(m.databaseUrl).layerInventories;
      },
    },
    m.fill ? filler(m.databaseUrl, clock) : undefined,
    clock,
  )
    .then((result) => {
      // The purge of the scan before, if it has run since (it overlaps this scan otherwise).
      if (result.cpuMs && purgeCpuMs > 0) {
        result.cpuMs.purge = purgeCpuMs;
        purgeCpuMs = 0;
      }
      channel.send({ kind: 'done', result });
      if (m.fill) purgeReplaced(m.databaseUrl);
    })
    .catch((err: unknown) =>
      channel.send({ kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
    )
    .finally(() => {
      for (const s of layers.values()) s.destroy();
      layers.clear();
      // The scan's garbage (layer reads, database rows, the report's JSON) goes now, while the process
      // or thread waits for the next scan: left to V8, scans back to back piled it up to 250-336 MiB
      // (issue 15). In a thread it is the thread's own heap that is collected; the server's runs on.
      collectGarbage();
    });
});
