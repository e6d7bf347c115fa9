import { performance } from 'node:perf_hooks';
import type { MetaStore } from '../../db/store.js';
import type { GcBlob, GcRule } from '../../db/repos/gc.js';
import type { RepositoryListRow } from '../../db/repos/repository-catalog.js';
import type { ArtifactRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/logger.js';
import type { StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import type { RequestContext } from '../context.js';

/** Blobs whose bytes go in one storage call. */
const deleteBatch = 100;

/** Harbor's GC parameters. */
export interface GcParams {
  deleteUntagged: boolean;
  dryRun: boolean;
  /** Parallel deletes, 1-10. */
  workers: number;
}

/** What one run examined, freed and kept (the log, the execution's extra attributes, /metrics). */
export interface GcResult {
  dryRun: boolean;
  blobsExamined: number;
  bytesExamined: number;
  /** Blobs (manifests included) deleted, or that a dry run would delete. */
  blobsDeleted: number;
  manifestsDeleted: number;
  bytesFreed: number;
  untaggedDeleted: number;
  /** Untagged artifacts kept because their delete was refused (immutability, …). */
  untaggedKept: number;
  keptReferenced: number;
  /** Unreferenced, but uploaded or mounted within the grace period: a push may still be on its way. */
  keptRecent: number;
  /** Examined as garbage, then uploaded, mounted or referenced by a push before GC could mark it. */
  keptRaced: number;
  uploadsPurged: number;
  /** Upload folders with no session row (a crash between deleting the row and the folder). */
  uploadFoldersPurged: number;
  durationMs: number;
  stopped: boolean;
}

export interface GcRun {
  signal: AbortSignal;
  log(line: string): Promise<void>;
}

/** The normal artifact delete path (immutability and quota apply). */
export interface ArtifactRemover {
  delete(ctx: RequestContext, repo: RepositoryListRow, row: ArtifactRow): Promise<void>;
}

/** Abandoned upload sessions, and upload folders left without one. */
export interface UploadReaper {
  purgeStale(maxIdleMs: number): Promise<number>;
  purgeOrphans(minAgeMs: number): Promise<number>;
}

export interface GarbageCollectorDeps {
  store: Pick<MetaStore, 'gc' | 'repositories'>;
  storage: StorageDriver;
  clock: Clock;
  log: Log;
  artifacts: ArtifactRemover;
  uploads: UploadReaper;
  /** Unreferenced blobs uploaded or mounted this recently are kept. */
  graceMs: number;
  uploadMaxIdleMs: number;
}

const batchSize = 500;

/**
 * Online mark-and-sweep over the metadata database (docs/gc.md). The database says what is referenced;
 * each garbage blob is marked in the database at the version examined (so a concurrent upload, mount or
 * manifest PUT keeps it), then its bytes are deleted, then its row. A run that dies leaves marks that
 * the next run finishes first; nothing ever points at a marked blob.
 */
export class GarbageCollector {
  constructor(private readonly d: GarbageCollectorDeps) {}

  async run(params: GcParams, run: GcRun): Promise<GcResult> {
    const started = Date.now();
    const now = this.d.clock.now();
    const rule: GcRule = { cutoff: new Date(now.getTime() - this.d.graceMs).toISOString() };
    const workers = Math.min(10, Math.max(1, params.workers));
    const t = new PhaseTimes();
    const r: GcResult = {
      dryRun: params.dryRun,
      blobsExamined: 0,
      bytesExamined: 0,
      blobsDeleted: 0,
      manifestsDeleted: 0,
      bytesFreed: 0,
      untaggedDeleted: 0,
      untaggedKept: 0,
      keptReferenced: 0,
      keptRecent: 0,
      keptRaced: 0,
      uploadsPurged: 0,
      uploadFoldersPurged: 0,
      durationMs: 0,
      stopped: false,
    };
    await run.log(
      `garbage collection started: delete_untagged=${params.deleteUntagged} dry_run=${params.dryRun} workers=${workers}, grace period ${Math.round(this.d.graceMs / 1000)} s (blobs uploaded or mounted after ${rule.cutoff} and not yet referenced are kept)`,
    );

    if (!params.dryRun) {
      // Marks left by a run that died: their bytes may be half gone, so they are finished first.
      for (let batch = await this.d.store.gc.marked(batchSize); batch.length > 0;) {
        await this.deleteMarked(batch, workers, r, t);
        batch = await this.d.store.gc.marked(batchSize);
      }
      if (r.blobsDeleted > 0) await run.log(`finished ${r.blobsDeleted} deletion(s) left by an earlier run`);
    }

    let garbage = 0;
    if (params.deleteUntagged && params.dryRun) {
      garbage = await this.untaggedDryRun(rule.cutoff, run, r);
    } else if (params.deleteUntagged) await this.untagged(rule.cutoff, run, r);

    const totals = await this.d.store.gc.totals();
    r.blobsExamined = totals.blobs;
    r.bytesExamined = totals.bytes;
    await run.log(`examining ${totals.blobs} blob(s), ${totals.bytes} bytes`);

    // Pipelined: while one batch's bytes are deleted, the next is read and marked. At most one batch is
    // marked ahead, and every marked batch is deleted, so a stop leaves no mark behind.
    let deleting: Promise<void> = Promise.resolve();
    let failed: unknown;
    for (let afterId = 0; ;) {
      if (run.signal.aborted) {
        r.stopped = true;
        break;
      }
      const batch = await t.time('select', () =>
        this.d.store.gc.unreferenced(rule, 'garbage', afterId, batchSize),
      );
      if (batch.length === 0) break;
      afterId = batch[batch.length - 1]!.id;
      garbage += batch.length;
      if (params.dryRun) {
        for (const b of batch) this.count(b, r);
        continue;
      }
      if (failed) break;
      const marked = await t.time('mark', () =>
        this.d.store.gc.mark(batch, this.d.clock.now().toISOString()),
      );
      r.keptRaced += batch.length - marked.length;
      await deleting;
      if (failed) break;
      deleting = this.deleteMarked(marked, workers, r, t).then(
        () =>
          run.log(
            `deleted ${r.blobsDeleted} blob(s) (${r.manifestsDeleted} manifest(s)), ${r.bytesFreed} bytes so far`,
          ),
        (err: unknown) => void (failed = err),
      );
    }
    await deleting;
    if (failed) throw failed;
    r.keptRecent = (
      await t.time('select', () => this.d.store.gc.unreferenced(rule, 'recent', 0, 1_000_000))
    ).length;
    r.keptReferenced = Math.max(0, totals.blobs - garbage - r.keptRecent);

    if (!params.dryRun && !r.stopped) {
      r.uploadsPurged = await t.time('uploads', () => this.d.uploads.purgeStale(this.d.uploadMaxIdleMs));
      r.uploadFoldersPurged = await t.time('uploads', () => this.d.uploads.purgeOrphans(this.d.graceMs));
    }
    r.durationMs = Date.now() - started;
    const verb = params.dryRun ? 'would delete' : 'deleted';
    await run.log(
      `${r.stopped ? 'stopped' : 'done'} in ${(r.durationMs / 1000).toFixed(2)} s: ${verb} ${r.blobsDeleted} blob(s) of which ${r.manifestsDeleted} manifest(s), ${r.bytesFreed} bytes` +
        (params.deleteUntagged ? `; ${verb} ${r.untaggedDeleted} untagged artifact(s)` : '') +
        `; kept ${r.keptReferenced} referenced, ${r.keptRecent} within the grace period, ${r.keptRaced} touched by a push during the run` +
        (r.untaggedKept ? `, ${r.untaggedKept} untagged artifact(s) whose delete was refused` : '') +
        `; ${r.uploadsPurged} abandoned upload session(s) removed, ${r.uploadFoldersPurged} upload folder(s) without a session` +
        `; time in ${t.toString()}`,
    );
    return r;
  }

  /** Deletes untagged artifacts through the normal delete path (immutability and quota apply). */
  private async untagged(cutoff: string, run: GcRun, r: GcResult): Promise<void> {
    const refused = new Set<number>();
    const ctx: RequestContext = { log: this.d.log, signal: run.signal };
    // An index deleted here leaves its children untagged and unlisted: they go in the next pass.
    for (let pass = 0; pass < 16 && !run.signal.aborted; pass++) {
      const rows = (await this.d.store.gc.untagged(cutoff, 10_000)).filter((a) => !refused.has(a.id));
      if (rows.length === 0) break;
      for (const a of rows) {
        if (run.signal.aborted) break;
        const repo = await this.d.store.repositories.findByName(a.repository_name);
        if (!repo) continue;
        try {
          await this.d.artifacts.delete(ctx, { ...repo, artifact_count: 0 }, a);
          r.untaggedDeleted++;
          await run.log(`deleted untagged ${a.repository_name}@${a.digest}`);
        } catch (err) {
          refused.add(a.id);
          r.untaggedKept++;
          await run.log(`kept untagged ${a.repository_name}@${a.digest}: ${(err as Error).message}`);
        }
      }
    }
  }

  /**
   * What delete_untagged would delete, without deleting: the untagged artifacts, then the children of
   * those indexes that no surviving index lists and no tag holds, as the run's later passes would find
   * them. Counts the blobs only they reference as freed; returns how many.
   */
  private async untaggedDryRun(cutoff: string, run: GcRun, r: GcResult): Promise<number> {
    let wave = await this.d.store.gc.untagged(cutoff, 10_000);
    const doomed = new Set<number>();
    for (let pass = 0; pass < 16 && wave.length > 0; pass++) {
      for (const a of wave) {
        doomed.add(a.id);
        await run.log(`would delete untagged ${a.repository_name}@${a.digest}`);
      }
      const next = [];
      for (let i = 0; i < wave.length; i += batchSize) {
        const ids = wave.slice(i, i + batchSize).map((a) => a.id);
        for (const { child, parents } of await this.d.store.gc.untaggedChildren(ids, cutoff)) {
          if (!doomed.has(child.id) && parents.every((p) => doomed.has(p))) next.push(child);
        }
      }
      wave = [...new Map(next.map((a) => [a.id, a])).values()];
    }
    r.untaggedDeleted = doomed.size;
    // Blobs of the doomed artifacts that no other artifact references would be garbage after them.
    const candidates = new Map<string, GcBlob>();
    const ids = [...doomed];
    for (let i = 0; i < ids.length; i += batchSize) {
      for (const b of await this.d.store.gc.referencedBy(ids.slice(i, i + batchSize)))
        candidates.set(b.digest, b);
    }
    const digests = [...candidates.keys()];
    for (let i = 0; i < digests.length; i += batchSize) {
      for (const ref of await this.d.store.gc.referencing(digests.slice(i, i + batchSize))) {
        if (!doomed.has(ref.artifact_id)) candidates.delete(ref.blob_digest);
      }
    }
    for (const b of candidates.values()) this.count(b, r);
    return candidates.size;
  }

  /** Bytes first, then rows: a blob's row outlives its bytes only while it is marked. */
  private async deleteMarked(blobs: GcBlob[], workers: number, r: GcResult, t: PhaseTimes): Promise<void> {
    let next = 0;
    const deleted: number[] = [];
    // Batches, so a driver that deletes many keys per call (S3's DeleteObjects) makes few calls.
    const worker = async () => {
      while (next < blobs.length) {
        const batch = blobs.slice(next, (next += deleteBatch));
        // The blob's file (its folder goes with it): two calls on a filesystem where the folder took three.
        await this.d.storage.deleteMany(batch.map((b) => layout.blob(b.digest)));
        for (const b of batch) {
          deleted.push(b.id);
          this.count(b, r);
        }
      }
    };
    try {
      await t.time('bytes', () =>
        Promise.all(Array.from({ length: Math.min(workers, blobs.length) }, worker)),
      );
    } finally {
      await t.time('rows', () => this.d.store.gc.remove(deleted));
    }
  }

  private count(b: GcBlob, r: GcResult): void {
    r.blobsDeleted++;
    r.bytesFreed += Number(b.size);
    if (b.manifest) r.manifestsDeleted++;
  }
}

/** Wall time per phase of a run, for its log (phases overlap: the sweep deletes one batch while it marks the next). */
class PhaseTimes {
  private readonly ms = new Map<string, number>();

  async time<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.ms.set(phase, (this.ms.get(phase) ?? 0) + performance.now() - t0);
    }
  }

  toString(): string {
    return [...this.ms].map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)} s`).join(', ') || 'nothing';
  }
}
