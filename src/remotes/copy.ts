import { Readable } from 'node:stream';
import { AppError } from '../lib/errors.js';
import { isRecycling, type RecyclingReadable } from '../lib/recycling.js';
import { isRemoteError, type FetchedManifest, type RemoteRegistry } from './adapter.js';
import { eachLimited } from './docker-registry.js';
import { TokenBucket } from './rate-limit.js';

/**
 * The blob-level copy engine: copies one artifact (a manifest or an index with all its children) from
 * a source RemoteRegistry to a destination. Blobs the destination already has are skipped (HEAD); blobs
 * it holds in another repository are mounted; the rest are streamed from source to destination (never
 * buffered whole; chunked when asked), through an optional bandwidth limit. Child manifests are pushed
 * by digest before their index, and the tagged manifest is pushed last, so a half-copied artifact is
 * never visible at the destination as complete.
 */

export interface CopyRequest {
  source: RemoteRegistry;
  sourceRepository: string;
  /** Tag or digest at the source. */
  reference: string;
  destination: RemoteRegistry;
  destinationRepository: string;
  /** Tags to give the artifact at the destination; default: the reference when it is a tag. */
  tags?: string[];
  /** Replace a destination tag that points at another artifact (Harbor's `override`; default true). */
  override?: boolean;
  /** Upload blobs in chunks of this many bytes (Harbor's `copy_by_chunk`). */
  chunkSize?: number;
  /** Bandwidth limit in KB/s for this copy (Harbor's `speed`); 0 or absent = unlimited. */
  speedKBps?: number;
  /** Where the destination is known to hold blobs; share one across the copies of an execution. */
  locations?: BlobLocations;
  /** Blobs copied at the same time within one manifest (default 3). */
  concurrency?: number;
  onProgress?: (event: CopyEvent) => void;
  signal?: AbortSignal;
}

export type CopyEvent =
  | { kind: 'blob'; digest: string; size: number; outcome: 'copied' | 'skipped' | 'mounted' }
  | { kind: 'bytes'; digest: string; transferred: number; size: number }
  | { kind: 'manifest'; reference: string; digest: string };

export interface CopyResult {
  digest: string;
  mediaType: string;
  /** True when the destination already had the artifact under every tag: nothing was done. */
  upToDate: boolean;
  /** Tags left alone because they point at another artifact and override is off. */
  tagsKept: string[];
  blobsCopied: number;
  blobsSkipped: number;
  blobsMounted: number;
  /** Blob bytes sent to the destination. */
  bytesCopied: number;
  manifestsPushed: number;
}

/** Remembers which destination repositories hold which blobs, to mount instead of upload. */
export class BlobLocations {
  private readonly repos = new Map<string, Set<string>>();

  add(digest: string, repository: string): void {
    const set = this.repos.get(digest) ?? new Set<string>();
    set.add(repository);
    this.repos.set(digest, set);
  }

  candidates(digest: string, except: string): string[] {
    return [...(this.repos.get(digest) ?? [])].filter((r) => r !== except);
  }
}

/** A copy failure naming the artifact, the blob (if any) and what the remote said. */
export class CopyError extends AppError {
  readonly artifact: string;
  readonly blob: string | undefined;

  constructor(artifact: string, blob: string | undefined, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      isRemoteError(cause) ? cause.code : 'INTERNAL_SERVER_ERROR',
      `copy of ${artifact} failed${blob ? ` at blob ${blob}` : ''}: ${why}`,
      isRemoteError(cause) ? { reason: cause.reason, status: cause.status, body: cause.body } : undefined,
    );
    this.name = 'CopyError';
    this.cause = cause;
    this.artifact = artifact;
    this.blob = blob;
  }
}

interface Descriptor {
  digest: string;
  size: number;
  mediaType?: string;
}

interface ManifestDoc {
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
  fsLayers?: { blobSum: string }[];
}

export async function copyArtifact(req: CopyRequest): Promise<CopyResult> {
  return new ArtifactCopy(req).run();
}

class ArtifactCopy {
  private readonly result: CopyResult = {
    digest: '',
    mediaType: '',
    upToDate: false,
    tagsKept: [],
    blobsCopied: 0,
    blobsSkipped: 0,
    blobsMounted: 0,
    bytesCopied: 0,
    manifestsPushed: 0,
  };
  private readonly bucket: TokenBucket | undefined;
  private readonly locations: BlobLocations;
  private readonly artifact: string;

  constructor(private readonly req: CopyRequest) {
    this.bucket = req.speedKBps && req.speedKBps > 0 ? new TokenBucket(req.speedKBps * 1024) : undefined;
    this.locations = req.locations ?? new BlobLocations();
    const sep = req.reference.includes(':') ? '@' : ':';
    this.artifact = `${req.source.name}/${req.sourceRepository}${sep}${req.reference}`;
  }

  async run(): Promise<CopyResult> {
    const { req } = this;
    const opts = { signal: req.signal };
    const top = await this.step(undefined, () =>
      req.source.getManifest(req.sourceRepository, req.reference, opts),
    );
    this.result.digest = top.digest;
    this.result.mediaType = top.mediaType;
    const isTag = !req.reference.includes(':');
    const wanted = req.tags ?? (isTag ? [req.reference] : []);

    // Decide per tag before copying anything: up to date, to be (re)pointed, or kept.
    const tags: string[] = [];
    for (const tag of wanted) {
      const there = await this.step(undefined, () =>
        req.destination.headManifest(req.destinationRepository, tag, opts),
      );
      if (there?.digest === top.digest) continue;
      if (there && req.override === false) this.result.tagsKept.push(tag);
      else tags.push(tag);
    }
    const present = await this.step(undefined, () =>
      req.destination.headManifest(req.destinationRepository, top.digest, opts),
    );
    if (present && tags.length === 0) {
      this.result.upToDate = true;
      return this.result;
    }
    if (!present) await this.copyContent(top);
    // The artifact becomes visible only now, complete.
    const refs = tags.length > 0 ? tags : [top.digest];
    for (const ref of refs) await this.pushManifest(top, ref);
    return this.result;
  }

  /** Copies what a manifest refers to (children of an index, blobs of an image), not the manifest itself. */
  private async copyContent(m: FetchedManifest): Promise<void> {
    const doc = parse(m);
    const { req } = this;
    const opts = { signal: req.signal };
    for (const child of doc.manifests ?? []) {
      const there = await this.step(undefined, () =>
        req.destination.headManifest(req.destinationRepository, child.digest, opts),
      );
      if (there) continue;
      const fetched = await this.step(undefined, () =>
        req.source.getManifest(req.sourceRepository, child.digest, opts),
      );
      await this.copyContent(fetched);
      await this.pushManifest(fetched, fetched.digest);
    }
    const blobs = new Map<string, Descriptor>();
    if (doc.config) blobs.set(doc.config.digest, doc.config);
    for (const l of doc.layers ?? []) blobs.set(l.digest, l);
    for (const l of doc.fsLayers ?? []) blobs.set(l.blobSum, { digest: l.blobSum, size: -1 });
    await eachLimited([...blobs.values()], req.concurrency ?? 3, (b) => this.copyBlob(b));
  }

  private async pushManifest(m: FetchedManifest, reference: string): Promise<void> {
    const { req } = this;
    await this.step(undefined, () =>
      req.destination.putManifest(req.destinationRepository, reference, m.mediaType, m.bytes, {
        signal: req.signal,
      }),
    );
    this.result.manifestsPushed += 1;
    req.onProgress?.({ kind: 'manifest', reference, digest: m.digest });
  }

  private async copyBlob(blob: Descriptor): Promise<void> {
    const { req } = this;
    const opts = { signal: req.signal };
    const dst = req.destinationRepository;
    const size = await this.step(blob.digest, () => req.destination.headBlob(dst, blob.digest, opts));
    if (size !== null) {
      this.done(blob, size, 'skipped');
      return;
    }
    for (const from of this.locations.candidates(blob.digest, dst)) {
      const mounted = await this.step(blob.digest, () =>
        req.destination.mountBlob(from, blob.digest, dst, opts),
      );
      if (mounted) {
        this.done(blob, blob.size, 'mounted');
        return;
      }
    }
    await this.step(blob.digest, () => this.stream(blob));
    this.done(blob, blob.size, 'copied');
  }

  private async stream(blob: Descriptor): Promise<void> {
    const { req } = this;
    const fetched = await req.source.getBlob(req.sourceRepository, blob.digest, { signal: req.signal });
    const size = blob.size >= 0 ? blob.size : fetched.size;
    if (size < 0) {
      fetched.stream.destroy();
      throw new Error('the source did not say how large the blob is');
    }
    let sourceError: Error | undefined;
    fetched.stream.once('error', (err: Error) => (sourceError ??= err));
    let transferred = 0;
    let lastReport = 0;
    let upstream: Readable = fetched.stream;
    if (this.bucket) upstream = upstream.pipe(this.bucket.throttle(req.signal));
    // Not pipeline(): a destination failure must not be reported as the source's error.
    const out = new CountedBody(upstream, (n) => {
      transferred += n;
      this.result.bytesCopied += n;
      if (transferred - lastReport >= 1 << 20 || transferred === size) {
        lastReport = transferred;
        req.onProgress?.({ kind: 'bytes', digest: blob.digest, transferred, size });
      }
    });
    if (upstream !== fetched.stream) fetched.stream.once('error', (err: Error) => out.destroy(err));
    try {
      await req.destination.putBlob(req.destinationRepository, blob.digest, size, out, {
        signal: req.signal,
        chunkSize: req.chunkSize,
      });
    } catch (err) {
      if (sourceError) {
        throw new Error(
          `reading it from ${req.source.name} broke off after ${transferred} of ${size} bytes: ${sourceError.message}`,
          { cause: sourceError },
        );
      }
      throw err;
    } finally {
      fetched.stream.destroy();
    }
    if (transferred !== size) {
      throw new Error(`the source sent ${transferred} bytes where the manifest says ${size}`);
    }
  }

  private done(blob: Descriptor, size: number, outcome: 'copied' | 'skipped' | 'mounted'): void {
    if (outcome === 'copied') this.result.blobsCopied += 1;
    else if (outcome === 'skipped') this.result.blobsSkipped += 1;
    else this.result.blobsMounted += 1;
    this.locations.add(blob.digest, this.req.destinationRepository);
    this.req.onProgress?.({ kind: 'blob', digest: blob.digest, size, outcome });
  }

  /** Runs one remote step, turning any failure into a CopyError that names the artifact and blob. */
  private async step<T>(blob: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CopyError) throw err;
      throw new CopyError(this.artifact, blob, err);
    }
  }
}

/**
 * A blob's bytes on their way from the source to the destination, counted as they pass. Chunks the
 * destination hands back (remotes/pooled-put.ts) go back to the source when it takes them (Berth's own
 * files: storage/file-read-stream.ts), so a copy reads into the same few buffers instead of leaving one
 * 1 MiB buffer per chunk to the garbage collector (issue 15: docs/remotes.md). Object mode: each chunk is
 * passed on as it came (a byte-mode read() may join chunks into a new buffer). The source's error
 * destroys this stream with it; destroying this stream leaves the source to its owner.
 */
class CountedBody extends Readable implements RecyclingReadable {
  constructor(
    private readonly source: Readable,
    count: (bytes: number) => void,
  ) {
    super({ objectMode: true, highWaterMark: 1 });
    source.on('data', (chunk: Buffer) => {
      count(chunk.length);
      if (!this.push(chunk)) source.pause();
    });
    source.once('end', () => this.push(null));
    source.once('error', (err: Error) => this.destroy(err));
  }

  override _read(): void {
    this.source.resume();
  }

  recycle(chunk: Buffer): void {
    if (isRecycling(this.source)) this.source.recycle(chunk);
  }
}

function parse(m: FetchedManifest): ManifestDoc {
  try {
    return JSON.parse(m.bytes.toString('utf8')) as ManifestDoc;
  } catch {
    throw new Error(`manifest ${m.digest} is not JSON`);
  }
}
