import { randomUUID, type Hash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LRUCache } from 'lru-cache';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { isRecycling } from '../../lib/recycling.js';
import { YoungGarbagePacer } from '../../lib/young-garbage-pacer.js';
import { createDigester, parseDigest, type DigestAlgorithm } from '../../oci/digest.js';
import { splitRepositoryName } from '../../oci/names.js';
import { PathNotFoundError, type StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import type { RequestContext } from '../context.js';
import type { EventBus } from '../events.js';
import type { QuotaService } from '../policies/quota/quota-service.js';
import type { BlobWriteGuard } from '../gc/blob-write-guard.js';
import type { Namespaces } from './namespaces.js';

export interface UploadState {
  id: string;
  /** Bytes received so far. */
  size: number;
}

export interface ContentRange {
  start: number;
  end: number;
}

export type MountResult =
  { mounted: true; digest: string; size: number } | { mounted: false; upload: UploadState };

interface HashState {
  hash: Hash;
  size: number;
}

const uuidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Blob upload sessions. Bytes are appended at `uploads/<id>/data` (a file on disk, a multipart upload on
 * S3), sealed into a file at completion, checked, then moved to the blob's path. The session's size is what
 * storage holds (so a crash mid-chunk or another node's write is always seen as it is). The running sha256
 * is kept in memory as an optimisation; when it is missing (restart, another node, failed chunk) the digest
 * is recomputed from the sealed file.
 */
/** A claim on a session not refreshed for this long is taken over: the node that held it has died. */
const claimStaleMs = 5_000;
/** Bytes of request bodies between two young-generation collections (issue 15). */
const bodyGarbageBytes = 8 * 2 ** 20;

export class UploadSessions {
  private readonly hashes = new LRUCache<string, HashState>({ max: 10_000 });
  private readonly busy = new Set<string>();
  /** Request bodies' chunks are collected every `bodyGarbageBytes` read (lib/young-garbage-pacer.ts). */
  private readonly bodyGarbage = new YoungGarbagePacer(bodyGarbageBytes);

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'blobs' | 'transaction' | 'uploads'>;
      storage: StorageDriver;
      namespaces: Namespaces;
      events: EventBus;
      clock: Clock;
      quota: QuotaService;
      writes: BlobWriteGuard;
    },
  ) {}

  async start(_ctx: RequestContext, repository: string): Promise<UploadState> {
    const project = await this.deps.namespaces.projectForPush(repository);
    const now = this.now();
    const id = randomUUID();
    await this.deps.store.uploads.create({
      id,
      repository_name: repository,
      project_id: project.id,
      size: 0,
      creation_time: now,
      update_time: now,
    });
    this.hashes.set(id, { hash: createDigester('sha256'), size: 0 });
    return { id, size: 0 };
  }

  async status(_ctx: RequestContext, repository: string, id: string): Promise<UploadState> {
    await this.session(repository, id);
    return { id, size: await this.storedSize(id) };
  }

  /** Appends a chunk. With `range`, its start must equal the bytes received so far (else RANGE_INVALID). */
  async append(
    ctx: RequestContext,
    repository: string,
    id: string,
    body: Readable,
    range?: ContentRange,
    contentLength?: number,
  ): Promise<UploadState> {
    await this.session(repository, id);
    return this.exclusive(
      id,
      () => this.appendLocked(ctx, id, body, range, contentLength),
      (state) => state.size,
    );
  }

  /** Completes the upload: optional last chunk, digest check, then the blob becomes visible atomically. */
  async finish(
    ctx: RequestContext,
    repository: string,
    id: string,
    digest: string,
    body?: Readable,
    contentLength?: number,
  ): Promise<{ digest: string; size: number }> {
    const expected = parseDigest(digest);
    const row = await this.session(repository, id);
    return this.exclusive(
      id,
      async () => {
        if (body) await this.appendLocked(ctx, id, body, undefined, contentLength);
        const size = await this.storedSize(id);
        await this.deps.storage.seal(layout.upload(id));
        const actual = await this.computeDigest(id, size, expected.algorithm);
        if (actual !== expected.value) {
          await this.discard(id);
          throw new AppError(
            'DIGEST_INVALID',
            `provided digest ${digest} does not match uploaded content (${actual})`,
            {
              expected: digest,
              actual,
            },
          );
        }
        const project = { id: row.project_id, name: splitRepositoryName(repository).project };
        const blob = [{ digest, size }];
        // A refused upload is forgotten with its bytes: the client starts again once there is room.
        await this.deps.quota.precheck(ctx, project, repository, blob).catch(this.discardThen(id));
        // Reserved, so no garbage collector deletes the bytes written next (docs/gc.md).
        await this.deps.writes.reserve(digest, size);
        await this.deps.storage.move(layout.upload(id), layout.blob(digest));
        // Refused here (a concurrent push took the room), the moved bytes have no row: garbage collection's.
        await this.deps.store
          .transaction(async (tx) => {
            await this.deps.quota.link(ctx, tx, project, repository, blob);
            await tx.uploads.delete(id);
          })
          .catch(this.discardThen(id));
        await this.discard(id);
        this.deps.events.emit('BlobUploaded', { repository, digest, size });
        return { digest, size };
      },
      // Done, the session row is gone: no size to record (and no need to ask storage for one).
      () => 0,
    );
  }

  /** A whole blob in one request (POST ?digest=). */
  async putMonolithic(
    ctx: RequestContext,
    repository: string,
    digest: string,
    body: Readable,
    contentLength?: number,
  ): Promise<{ digest: string; size: number }> {
    parseDigest(digest);
    const { id } = await this.start(ctx, repository);
    try {
      return await this.finish(ctx, repository, id, digest, body, contentLength);
    } finally {
      await this.discard(id);
    }
  }

  /** Cross-repository mount: links the blob when `from` holds it, else opens a normal session. */
  async mount(
    ctx: RequestContext,
    repository: string,
    digest: string,
    from: string | undefined,
  ): Promise<MountResult> {
    parseDigest(digest);
    const project = await this.deps.namespaces.projectForPush(repository);
    if (from) {
      // Blobs are linked per project, so the source repository itself must exist: naming a missing
      // repository of another project must not reach that project's blobs. A fallback upload is always safe.
      const source = await this.deps.namespaces.repository(from).catch(() => undefined);
      const size = source ? await this.deps.store.blobs.sizeInProject(source.project_id, digest) : undefined;
      if (size !== undefined) {
        const blob = [{ digest, size }];
        const linked = await this.deps.store
          .transaction((tx) => this.deps.quota.link(ctx, tx, project, repository, blob))
          .then(
            () => true,
            (err: unknown) => {
              // A blob that garbage collection is deleting is not mounted: the client uploads it instead.
              if (err instanceof AppError && err.code === 'UNAVAILABLE') return false;
              throw err;
            },
          );
        if (linked) return { mounted: true, digest, size };
      }
    }
    return { mounted: false, upload: await this.start(ctx, repository) };
  }

  async cancel(_ctx: RequestContext, repository: string, id: string): Promise<void> {
    await this.session(repository, id);
    await this.discard(id);
  }

  /**
   * Removes sessions idle for longer than `maxIdleMs` with their bytes (clients that went away for good).
   * Returns how many were purged. Safe to run on several nodes at once.
   */
  async purgeStale(maxIdleMs: number): Promise<number> {
    const cutoff = new Date(this.deps.clock.now().getTime() - maxIdleMs).toISOString();
    const stale = (await this.deps.store.uploads.listOlderThan(cutoff, 1000)).filter(
      (r) => !this.busy.has(r.id),
    );
    for (const row of stale) {
      this.hashes.delete(row.id);
      await this.deps.store.uploads.delete(row.id);
    }
    // One storage call for all of them where the driver batches deletes (S3's DeleteObjects).
    await this.deps.storage.deleteMany(stale.map((r) => layout.uploadDir(r.id)));
    return stale.length;
  }

  /**
   * Removes upload folders that have no session row and were last written more than `minAgeMs` ago:
   * left by a crash between the row's delete and the folder's, or by an older Berth. The row is always
   * written before the folder, so a folder without one is never a live upload. Returns how many.
   */
  async purgeOrphans(minAgeMs: number): Promise<number> {
    const cutoff = this.deps.clock.now().getTime() - minAgeMs;
    const names = (await this.deps.storage.list(layout.uploadsRoot())).filter((n) => uuidRe.test(n));
    let purged = 0;
    for (let i = 0; i < names.length; i += 500) {
      const chunk = names.slice(i, i + 500);
      const known = await this.deps.store.uploads.existing(chunk);
      for (const id of chunk) {
        if (known.has(id) || this.busy.has(id)) continue;
        const modified = await this.lastWritten(id);
        if (modified === undefined || modified > cutoff) continue;
        await this.deps.storage.delete(layout.uploadDir(id)).catch((err: unknown) => {
          if (!(err instanceof PathNotFoundError)) throw err;
        });
        purged++;
      }
    }
    return purged;
  }

  /** When an upload folder was last written (its data, else the folder itself); undefined when gone. */
  private async lastWritten(id: string): Promise<number | undefined> {
    for (const path of [layout.upload(id), layout.uploadDir(id)]) {
      try {
        return (await this.deps.storage.stat(path)).modified.getTime();
      } catch (err) {
        if (!(err instanceof PathNotFoundError)) throw err;
      }
    }
    return undefined;
  }

  private async appendLocked(
    ctx: RequestContext,
    id: string,
    body: Readable,
    range: ContentRange | undefined,
    contentLength: number | undefined,
  ): Promise<UploadState> {
    const size = await this.storedSize(id);
    if (range) {
      if (range.start !== size || range.end < range.start) {
        throw new AppError(
          'RANGE_INVALID',
          `chunk starts at ${range.start} but the upload holds ${size} bytes`,
          {
            size,
          },
        );
      }
      const length = range.end - range.start + 1;
      if (contentLength !== undefined && contentLength !== length) {
        throw new AppError(
          'SIZE_INVALID',
          `Content-Range length ${length} differs from Content-Length ${contentLength}`,
        );
      }
    }
    let state = this.hashes.get(id);
    if (state && state.size !== size) {
      this.hashes.delete(id);
      state = undefined;
    }
    const hashing = state ?? null;
    const bodyGarbage = this.bodyGarbage;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hashing?.hash.update(chunk);
        bodyGarbage.add(chunk.length);
        cb(null, chunk);
      },
    });
    let written: number;
    try {
      [, written] = await Promise.all([
        ctx.signal ? pipeline(body, counter, { signal: ctx.signal }) : pipeline(body, counter),
        this.deps.storage.append(layout.upload(id), counter),
      ]);
    } catch (err) {
      // Storage holds what it holds; the in-memory hash may have seen bytes that did not land.
      this.hashes.delete(id);
      counter.destroy();
      throw err instanceof AppError
        ? err
        : new AppError('BLOB_UPLOAD_INVALID', `upload interrupted: ${(err as Error).message}`);
    }
    const newSize = size + written;
    if (range && newSize !== range.end + 1) {
      this.hashes.delete(id);
      throw new AppError('SIZE_INVALID', `chunk ended at ${newSize - 1}, expected ${range.end}`);
    }
    if (contentLength !== undefined && written !== contentLength) {
      this.hashes.delete(id);
      throw new AppError('SIZE_INVALID', `received ${written} bytes, Content-Length said ${contentLength}`);
    }
    if (hashing) hashing.size = newSize;
    return { id, size: newSize };
  }

  private async computeDigest(id: string, size: number, algorithm: DigestAlgorithm): Promise<string> {
    const state = this.hashes.get(id);
    if (state && state.size === size && algorithm === 'sha256')
      return `sha256:${state.hash.copy().digest('hex')}`;
    const hash = createDigester(algorithm);
    if (size > 0) {
      // Each chunk goes back to the read once hashed, so the file is read into the same memory: a fresh
      // 1 MiB buffer per chunk, read faster than V8 collects them, held 60 MiB of garbage at once (the
      // replication row's image pushed by skopeo, issue 15: docs/benchmarks.md).
      const body = await this.deps.storage.read(layout.upload(id));
      for await (const chunk of body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        if (isRecycling(body)) body.recycle(chunk);
      }
    }
    return `${algorithm}:${hash.digest('hex')}`;
  }

  private async session(repository: string, id: string) {
    const row = uuidRe.test(id) ? await this.deps.store.uploads.find(id) : undefined;
    if (!row || row.repository_name !== repository) {
      throw new AppError('BLOB_UPLOAD_UNKNOWN', `blob upload unknown to registry: ${id.slice(0, 64)}`);
    }
    return row;
  }

  private storedSize(id: string): Promise<number> {
    return this.deps.storage.appendedSize(layout.upload(id));
  }

  /** Forgets a session and its bytes. */
  private async discard(id: string): Promise<void> {
    this.hashes.delete(id);
    await this.deps.store.uploads.delete(id);
    await this.deps.storage.delete(layout.uploadDir(id)).catch((err: unknown) => {
      if (!(err instanceof PathNotFoundError)) throw err;
    });
  }

  /** A rejection handler that forgets the session, then rethrows. */
  private discardThen(id: string): (err: unknown) => Promise<never> {
    return async (err) => {
      await this.discard(id);
      throw err;
    };
  }

  /**
   * One writing request at a time per session, in this process and across nodes (the session row is
   * claimed in the database): a concurrent one, here or on another node, is told RANGE_INVALID and retries
   * from the new offset, so two writers never interleave bytes. `sizeOf` gives the size to record from the
   * result; without it (or on failure) storage is asked.
   */
  private async exclusive<T>(id: string, fn: () => Promise<T>, sizeOf?: (result: T) => number): Promise<T> {
    const busy = () => new AppError('RANGE_INVALID', 'another request is writing to this upload');
    if (this.busy.has(id)) throw busy();
    this.busy.add(id);
    try {
      const now = this.deps.clock.now().getTime();
      const staleBefore = new Date(now - claimStaleMs).toISOString();
      if (!(await this.deps.store.uploads.claim(id, new Date(now).toISOString(), staleBefore))) throw busy();
      const refresh = setInterval(() => {
        this.deps.store.uploads.refreshClaim(id, this.now()).catch(() => undefined);
      }, claimStaleMs / 5);
      refresh.unref();
      let size: number | undefined;
      try {
        const result = await fn();
        size = sizeOf?.(result);
        return result;
      } finally {
        clearInterval(refresh);
        size ??= await this.storedSize(id).catch(() => 0);
        await this.deps.store.uploads.release(id, size, this.now());
      }
    } finally {
      this.busy.delete(id);
    }
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}
