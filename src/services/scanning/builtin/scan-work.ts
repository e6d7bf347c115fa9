import type { Readable } from 'node:stream';
import type { MetaStore } from '../../../db/store.js';
import type { ScanType } from '../scanner.js';
import {
  inventoryImage,
  type Inventory,
  type InventoryLimits,
  type InventoryStats,
  type LayerReadingCache,
} from './inventory/index.js';
import { deserializeReading, serializeReading } from './inventory/layer-reading.js';
import type { LayerInventoryRepo } from '../../../db/repos/layer-inventories.js';
import { storedReport, type StoredReport } from '../summary.js';
import type { VulnerabilityReport } from './report.js';
import { matchInventory } from './scan-image.js';
import { openVulnDb } from './stored-vuln-db.js';
import type { VulnDbInfo } from './vuln-db.js';
import { SCAN_COMPLETED_LINE } from './scan-log.js';

/**
 * The CPU-heavy part of a built-in scan, as plain data in and out, so it can run on the event loop or in
 * a worker thread (scan-pool.ts) alike: decompress and walk the layers, inventory the packages, and for
 * a vulnerability scan match them against the active vulnerability database.
 */
export interface ScanWork {
  type: ScanType;
  /** The image's layers, lowest first; their bytes come through the engine's `LayerOpener`. */
  layers: { digest: string; mediaType: string }[];
  artifact: NonNullable<VulnerabilityReport['artifact']>;
  /** The report's `generated_at`. */
  now: string;
  limits?: InventoryLimits;
  /** The scan reports a vulnerability scan fills where the engine can write them (the scanning process). */
  reports?: number[];
  /** Those reports' log so far (timestamped lines), which the filled reports' log continues. */
  log?: string[];
}

export interface ScanWorkResult {
  /** What the image holds: for an SBOM scan only (a vulnerability scan's report says what it found). */
  inventory?: Inventory;
  /** For a vulnerability scan: the report as the scan job stores it, and the database it was matched against. */
  stored?: StoredReport;
  /**
   * Instead of `stored`: the report was written into the work's reports and ended them Success
   * (ScanReportRepo.fill with an end); `ended` are those still pending or running then.
   */
  filled?: { severity: string; total: number; ended: number[] };
  db?: VulnDbInfo;
  /** Milliseconds spent reading the layers (the rest is matching). */
  readMs: number;
  /** The scan's lines for its log (what was read, what was matched). */
  lines: string[];
  /** The scanning process's CPU (ms, all its threads) by phase of this scan (`PhaseClock`). */
  cpuMs?: Partial<Record<ScanPhase, number>>;
}

/**
 * A scan's phases, as the scanning process counts its CPU: reading the layers (or their readings), matching,
 * building the report (its JSON and rows), compiling its statements (the document's gzip included),
 * writing them, and purging the report a rescan replaced.
 */
export type ScanPhase = 'read' | 'match' | 'report' | 'pack' | 'write' | 'purge';

/** Attributes the CPU used since its last mark to a phase. */
export class PhaseClock {
  readonly spent: Partial<Record<ScanPhase, number>> = {};
  private last: number;

  constructor(private readonly cpuMs: () => number) {
    this.last = cpuMs();
  }

  private excluded = 0;

  mark(phase: ScanPhase): void {
    const now = this.cpuMs();
    this.spent[phase] = (this.spent[phase] ?? 0) + now - this.last - this.excluded;
    this.last = now;
    this.excluded = 0;
  }

  /** CPU used meanwhile by other work of the process (a purge's statements), not this scan's. */
  exclude(ms: number): void {
    this.excluded += ms;
  }
}

/** Writes a report into the work's reports and ends them with this log; answers the reports it ended. */
export type ReportFiller = (reports: number[], stored: StoredReport, log: string) => Promise<number[]>;

/** Streams a layer's stored (compressed) bytes from the StorageDriver. */
export type LayerOpener = (digest: string) => Promise<Readable>;

/** Runs scan work somewhere: on this event loop (`inProcessEngine`) or in a worker thread (`ScanPool`). */
export interface ScanEngine {
  run(work: ScanWork, open: LayerOpener, signal: AbortSignal): Promise<ScanWorkResult>;
  close?(): Promise<void>;
}

export const NO_VULNDB_MESSAGE =
  'no vulnerability database has been imported: run `berth vulndb import <FILE.zip|DIR>` first';

/** Where scan work reads the vulnerability database and keeps its layers' readings. */
export type ScanWorkStore = Pick<MetaStore, 'vulnDb'> & { layerInventories?: LayerInventoryRepo };

/** The layers' readings kept in the metadata database (0015), shared by every node and scanning process. */
export function storedReadings(repo: LayerInventoryRepo): LayerReadingCache {
  return {
    get: async (digest, version) => {
      const text = await repo.get(digest, version);
      return text === undefined ? undefined : deserializeReading(text, digest);
    },
    put: async (digest, version, reading) => {
      await repo.put(digest, version, serializeReading(reading), new Date().toISOString());
    },
  };
}

export async function runScanWork(
  work: ScanWork,
  open: LayerOpener,
  store: ScanWorkStore,
  fill?: ReportFiller,
  clock?: PhaseClock,
): Promise<ScanWorkResult> {
  const started = Date.now();
  const layers = work.layers.map((l) => ({ ...l, open: () => open(l.digest) }));
  const stats: InventoryStats = { cached: 0, read: 0 };
  const cache = store.layerInventories ? storedReadings(store.layerInventories) : undefined;
  const inventory = await inventoryImage(layers, work.limits, cache, stats);
  const readMs = Date.now() - started;
  clock?.mark('read');
  const os = inventory.os ? `${inventory.os.ecosystem}` : 'no known OS';
  const lines = [
    `read ${work.layers.length} layers (${stats.cached} of them as read by an earlier scan): ` +
      `${inventory.packages.length} packages (${os}) in ${readMs} ms`,
    ...inventory.notes.map((note) => `note: ${note}`),
  ];
  const cpu = clock ? { cpuMs: clock.spent } : {};
  if (work.type === 'sbom') return { inventory, readMs, lines, ...cpu };
  const db = await openVulnDb(store);
  if (!db) throw new Error(NO_VULNDB_MESSAGE);
  const info = (await db.info())!;
  const report = await matchInventory(inventory, db, {
    artifact: work.artifact,
    now: () => new Date(work.now),
  });
  clock?.mark('match');
  const stored = storedReport(report);
  clock?.mark('report');
  lines.push(
    `matched against the vulnerability database ${info.version} (imported ${info.importedAt}, ${info.records} records): ` +
      `${stored.counts.total} vulnerabilities, severity ${stored.severity}, ${Date.now() - started} ms in all`,
  );
  if (!fill || !work.reports?.length) return { stored, db: info, readMs, lines, ...cpu };
  const log = [
    ...(work.log ?? []),
    ...[...lines, SCAN_COMPLETED_LINE].map((l) => `${new Date().toISOString()} ${l}`),
  ];
  const ended = await fill(work.reports, stored, log.join('\n') + '\n');
  const filled = { severity: stored.severity, total: stored.counts.total, ended };
  return { filled, db: info, readMs, lines, ...cpu };
}

/** Scans on the calling event loop (`scanning.workers: 0`): no thread, but pulls wait while it computes. */
export function inProcessEngine(store: ScanWorkStore): ScanEngine {
  return { run: (work, open) => runScanWork(work, open, store) };
}
