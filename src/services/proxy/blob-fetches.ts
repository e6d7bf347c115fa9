import { randomUUID } from 'node:crypto';
import { PassThrough, pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { HashThread, ThreadHasher } from '../../lib/hash-thread.js';
import { isRecycling, type RecyclingReadable } from '../../lib/recycling.js';
import type { Log } from '../../lib/logger.js';
import { createDigester, parseDigest } from '../../oci/digest.js';
import type { TokenBucket } from '../../remotes/rate-limit.js';
import { PathNotFoundError, type StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import type { RequestContext } from '../context.js';
import type { BlobWriteGuard } from '../gc/blob-write-guard.js';
import type { QuotaService } from '../policies/quota/quota-service.js';

/**
 * How far storage may fall behind the clients, in bytes held in memory, summed over this process's fetches.
 * Clients get the upstream's bytes as they come; storage writes them at the disk's pace (on a disk slower
 * than the network, a 5 × 64 MiB image lands seconds after the client has it all). Past this, the fetches
 * wait for the disk: the memory a burst of cold pulls may take is bounded. 4 MiB: with 16 a cold 5 × 64 MiB
 * pull raised the process's RSS by 35-56 MiB, with 4 by 23-36, and took as long (the page cache takes
 * writes faster than the loopback network delivers them: issue 15, docs/proxy-cache.md "Memory").
 */
export const defaultBacklogBytes = 4 << 20;
/**
 * A blob of at most this size, with storage at most this far behind at its end, has its last byte wait
 * until the blob is stored (fsync included), linked and its artifact recorded if it completed one: a client
 * pulling blob after blob finds the artifact listed when its pull completes. A larger blob, or storage
 * further behind, and the client is not kept waiting for the disk: the artifact is listed as soon as the
 * disk has the blob, moments after the pull. (Holding every 64 MiB layer for its fsync made a cold pull
 * run at the disk's flush rate, ~150 MB/s on the bench's VM, against the network's ~300: docs/proxy-cache.md.)
 */
const recordWaitBytes = 8 << 20;
/**
 * Chunks (up to 1 MiB each) a consumer's stream holds on each side, waiting for its client's socket or the
 * file write. 2, not 8: with 8, each consumer held up to 16 slabs, and a cold pull up to 51-67 of them
 * with storage's backlog (two consumers, 64 MiB backlog) against 30-34 now (docs/proxy-cache.md "Memory").
 */
const lendingChunks = 2;

export interface BlobTarget {
  project: { id: number; name: string };
  repository: string;
  digest: string;
}

export interface UpstreamBlob {
  /** -1 when the upstream did not say. */
  size: number;
  stream: Readable;
}

interface StreamOptions {
  bucket?: TokenBucket;
  /** Runs once the blob is stored and visible in the project (records the artifacts it completed). */
  cached?: () => Promise<void>;
}

export interface LiveBlob {
  size: number;
  body: Readable;
}

/** A fetch in this process: the upstream's bytes fan out to storage and to every client that joined in time. */
interface Fetch {
  subscribers: Set<Lending>;
  /** Bytes have gone out: a client joining now could not get the start of the blob from this fetch. */
  started: boolean;
  /** The blob's size once the upstream answered; undefined when another node fetched it instead. */
  opened: Promise<number | undefined>;
  /** Settles when the blob is visible in the project (or the fetch failed). */
  done: Promise<void>;
  /** A consumer (a client's socket, the file write) is done with a chunk: see `stream`. */
  release?: (chunk: Buffer) => void;
}

/**
 * A stream between a fetch and one consumer (a client, storage) whose consumer hands chunks back once it is
 * done with them (lib/recycling.ts), so the upstream's read memory is reused; `taken` counts what passes.
 */
class Lending extends Transform implements RecyclingReadable {
  constructor(
    private readonly release: (chunk: Buffer) => void,
    private readonly taken?: (bytes: number) => void,
  ) {
    // Chunks come out one by one, as they went in (see PooledBody): up to `lendingChunks` of them on each
    // side.
    super({ objectMode: true, highWaterMark: lendingChunks });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.taken?.(chunk.length);
    done(null, chunk);
  }

  recycle(chunk: Buffer): void {
    this.release(chunk);
  }
}

/**
 * Fetches of blobs missing from a proxy-cache project. One fetch per (project, blob) at a time: in this
 * process by the `inflight` map (clients arriving before the first byte share the upstream's stream;
 * later ones wait for the blob to land and read it from storage), across nodes by a claim row in
 * `proxy_fetch` that its owner renews while it streams (another node waits for the blob, or takes the
 * claim over once it expires: its owner died).
 *
 * Bytes are written under `uploads/<id>/` (with an upload row, so the hourly purge removes what a crash
 * leaves), hashed on the way, and moved to the blob's path only after the digest matched and the write
 * is done; the blob is linked to the project (quota) in the same step. Clients do not wait for the disk
 * (within `backlogBytes`), and the last chunk reaches them only once the digest matched, so a client
 * never receives a whole blob that failed verification; for a small blob with storage nearly done, only once
 * the blob is stored and the artifact it completes recorded (listed before the pull completes).
 */
export class BlobFetches {
  private readonly inflight = new Map<string, Fetch>();
  private readonly owner = randomUUID();
  private readonly claimMs: number;
  private readonly backlogBytes: number;
  /** Bytes handed to storage writes and not yet taken by them, over all fetches. */
  private backlog = 0;
  private readonly backlogWaiters = new Set<() => void>();

  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'proxyCache' | 'uploads' | 'blobs' | 'transaction'>;
      storage: StorageDriver;
      clock: Clock;
      log: Log;
      quota: Pick<QuotaService, 'precheck' | 'link'>;
      writes: Pick<BlobWriteGuard, 'reserve'>;
      claimMs?: number;
      backlogBytes?: number;
      /** Hashes pooled upstream reads beside the event loop (else the loop hashes them). */
      hashes?: HashThread;
    },
  ) {
    this.claimMs = deps.claimMs ?? 60_000;
    this.backlogBytes = deps.backlogBytes ?? defaultBacklogBytes;
  }

  /**
   * The blob's bytes as they arrive from the upstream, or undefined when the caller should read the
   * cached copy (it landed while waiting). `open` asks the upstream; `cached` runs once the blob is
   * visible and before the last byte goes to the clients.
   */
  async join(
    ctx: RequestContext,
    target: BlobTarget,
    open: () => Promise<UpstreamBlob>,
    options: StreamOptions & { live: boolean },
  ): Promise<LiveBlob | undefined> {
    const key = `${target.project.id}:${target.digest}`;
    let fetch = this.inflight.get(key);
    if (!fetch) {
      fetch = this.start(ctx, key, target, open, options);
      this.inflight.set(key, fetch);
      void fetch.done.then(
        () => this.inflight.delete(key),
        () => this.inflight.delete(key),
      );
    }
    const size = await fetch.opened;
    if (size === undefined || size < 0 || fetch.started || !options.live) {
      await fetch.done;
      return undefined;
    }
    const body = new Lending((chunk) => fetch.release?.(chunk));
    fetch.subscribers.add(body);
    body.once('close', () => fetch.subscribers.delete(body));
    return { size, body };
  }

  private start(
    ctx: RequestContext,
    key: string,
    target: BlobTarget,
    open: () => Promise<UpstreamBlob>,
    options: StreamOptions,
  ): Fetch {
    let opened!: (size: number | undefined) => void;
    let failed!: (err: unknown) => void;
    const fetch: Fetch = {
      subscribers: new Set(),
      started: false,
      opened: new Promise<number | undefined>((resolve, reject) => {
        opened = resolve;
        failed = reject;
      }),
      done: Promise.resolve(),
    };
    fetch.opened.catch(() => undefined);
    fetch.done = (async () => {
      if (!(await this.claim(key, target))) return opened(undefined);
      const renew = setInterval(
        () => void this.deps.store.proxyCache.extend(key, this.owner, this.expiry()).catch(() => undefined),
        this.claimMs / 3,
      );
      let upstream: UpstreamBlob | undefined;
      try {
        upstream = await open();
        if (upstream.size >= 0)
          await this.deps.quota.precheck(ctx, target.project, target.repository, [
            { digest: target.digest, size: upstream.size },
          ]);
        opened(upstream.size);
        await this.stream(ctx, fetch, target, upstream, options);
      } catch (err) {
        // A refused quota leaves the upstream's answer unread: close it (and free its connection).
        upstream?.stream.destroy();
        failed(err);
        for (const s of fetch.subscribers) s.destroy(err as Error);
        throw err;
      } finally {
        clearInterval(renew);
        await this.deps.store.proxyCache.release(key, this.owner).catch(() => undefined);
      }
    })();
    return fetch;
  }

  private expiry(): string {
    return new Date(this.deps.clock.now().getTime() + this.claimMs).toISOString();
  }

  /** True when this node may fetch; false when another node's fetch put the blob in the project meanwhile. */
  private async claim(key: string, target: BlobTarget): Promise<boolean> {
    for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
      const now = this.deps.clock.now().toISOString();
      if (await this.deps.store.proxyCache.claim(key, this.owner, now, this.expiry())) {
        // The claim may follow another node's finished fetch.
        return (await this.deps.store.blobs.sizeInProject(target.project.id, target.digest)) === undefined;
      }
      if ((await this.deps.store.blobs.sizeInProject(target.project.id, target.digest)) !== undefined)
        return false;
      await sleep(pause);
    }
  }

  private async stream(
    ctx: RequestContext,
    fetch: Fetch,
    target: BlobTarget,
    upstream: UpstreamBlob,
    options: StreamOptions,
  ): Promise<void> {
    const { store, storage } = this.deps;
    const expected = parseDigest(target.digest);
    const id = randomUUID();
    const now = this.deps.clock.now().toISOString();
    await store.uploads.create({
      id,
      repository_name: target.repository,
      project_id: target.project.id,
      size: 0,
      creation_time: now,
      update_time: now,
    });
    const source = options.bucket
      ? pipeline(upstream.stream, options.bucket.throttle(), () => undefined)
      : upstream.stream;
    // Each chunk the upstream lent (pooled read memory, remotes/pooled-get.ts) goes back to it once storage
    // and every client it was written to are done with it: a count per chunk (an unknown or throttled
    // chunk, or one a consumer never hands back, is left to the garbage collector).
    const lender = isRecycling(upstream.stream) && !options.bucket ? upstream.stream : undefined;
    const lent = new Map<Buffer, number>();
    fetch.release = (chunk) => {
      const n = lent.get(chunk);
      if (n === undefined) return;
      if (n > 1) return void lent.set(chunk, n - 1);
      lent.delete(chunk);
      lender!.recycle(chunk);
    };
    // The hashing thread reads the chunks of pooled reads where they are (shared memory): one more
    // consumer to hand each back. Other sources are hashed here.
    const threaded = lender && this.deps.hashes?.hasher(expected.algorithm);
    const hash = threaded ? undefined : createDigester(expected.algorithm);
    const lend = (chunk: Buffer) => {
      if (!lender) return;
      let n = threaded ? 2 : 1;
      for (const s of fetch.subscribers) if (!s.destroyed) n++;
      lent.set(chunk, n);
    };
    // The sink never says "full": the backlog (bytes written to it that storage has not taken yet) is
    // counted here instead, over all fetches, and bounds the wait in `forward`.
    let mine = 0;
    let counting = true;
    const sink = new PassThrough({ highWaterMark: Number.MAX_SAFE_INTEGER });
    const taken = new Lending(
      (chunk) => fetch.release?.(chunk),
      (bytes) => {
        if (!counting) return;
        mine -= bytes;
        this.drained(bytes);
      },
    );
    const writing = storage.write(
      layout.upload(id),
      pipeline(sink, taken, () => undefined),
    );
    // A failed write ends the fetch: the clients' stream is cut rather than storage left behind forever.
    writing.catch((err: unknown) => upstream.stream.destroy(err as Error));
    let size = 0;
    let held: Buffer | undefined;
    let early = false;
    const toStorage = (chunk: Buffer) => {
      mine += chunk.length;
      this.backlog += chunk.length;
      if (!sink.destroyed) sink.write(chunk);
    };
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        // Counted before the hashing thread may hand it back.
        lend(chunk);
        if (threaded) threaded.update(chunk, () => fetch.release?.(chunk));
        else hash!.update(chunk);
        size += chunk.length;
        fetch.started = true;
        if (held) {
          toStorage(held);
          const full = this.forward(fetch, held, threaded);
          if (full) await full;
        }
        held = chunk;
      }
      const hex = threaded ? await threaded.digest() : hash!.digest('hex');
      const actual = `${expected.algorithm}:${hex}`;
      if (actual !== target.digest || (upstream.size >= 0 && size !== upstream.size))
        throw new AppError(
          'DIGEST_INVALID',
          `the upstream sent ${size} bytes hashing to ${actual} for blob ${target.digest}; nothing was cached`,
        );
      if (held) toStorage(held);
      sink.end();
      // Verified: the clients may have the last chunk of a large blob, or while storage is still far
      // behind; a small blob nearly stored waits for the blob to be stored and its artifact recorded.
      // (Ending every small blob but the completing one early let a client that pulls blob after blob ask
      // for the last one before the earlier one was linked, so the artifact was listed only after the pull:
      // seen in portal-proxy-cache on PostgreSQL.)
      early = size > recordWaitBytes || mine > recordWaitBytes;
      if (early) for (const s of fetch.subscribers) s.end(held);
      await writing;
      const blob = [{ digest: target.digest, size }];
      await this.deps.writes.reserve(target.digest, size);
      await storage.move(layout.upload(id), layout.blob(target.digest));
      await store.transaction(async (tx) => {
        await this.deps.quota.link(ctx, tx, target.project, target.repository, blob);
        await tx.uploads.delete(id);
      });
    } catch (err) {
      threaded?.drop();
      sink.destroy();
      upstream.stream.destroy();
      await this.discard(id);
      throw err;
    } finally {
      // What storage never took (a failed write) leaves the backlog too.
      counting = false;
      this.drained(mine);
    }
    await this.discard(id);
    await options
      .cached?.()
      .catch((err: unknown) =>
        this.deps.log.warn({ err, digest: target.digest }, 'proxy cache: recording after a blob failed'),
      );
    if (!early) for (const s of fetch.subscribers) s.end(held);
  }

  /** Storage took (or will never take) `bytes` of the backlog: wakes the fetches waiting for room. */
  private drained(bytes: number): void {
    if (bytes <= 0) return;
    this.backlog -= bytes;
    if (this.backlog > this.backlogBytes) return;
    for (const wake of this.backlogWaiters) wake();
    this.backlogWaiters.clear();
  }

  /**
   * Writes a chunk to every client; what to wait for when one of them is full, storage when the backlog
   * is over its bound, or the hashing thread when it is far behind (undefined, no promise, in the usual
   * case: this runs for every chunk).
   */
  private forward(fetch: Fetch, chunk: Buffer, hasher?: ThreadHasher): Promise<unknown> | undefined {
    const waits: Promise<unknown>[] = [];
    if (this.backlog > this.backlogBytes)
      waits.push(new Promise<void>((resolve) => this.backlogWaiters.add(resolve)));
    const hashing = hasher?.behind();
    if (hashing) waits.push(hashing);
    for (const s of fetch.subscribers) {
      if (s.destroyed) continue;
      if (!s.write(chunk))
        waits.push(
          new Promise<void>((resolve) => {
            const done = () => {
              s.off('drain', done);
              s.off('close', done);
              resolve();
            };
            s.on('drain', done);
            s.on('close', done);
          }),
        );
    }
    return waits.length === 0 ? undefined : Promise.all(waits);
  }

  private async discard(id: string): Promise<void> {
    await this.deps.store.uploads.delete(id).catch(() => undefined);
    await this.deps.storage.delete(layout.uploadDir(id)).catch((err: unknown) => {
      if (!(err instanceof PathNotFoundError))
        this.deps.log.warn({ err, id }, 'proxy cache: temp bytes left');
    });
  }
}
