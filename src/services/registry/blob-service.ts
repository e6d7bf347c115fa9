import type { Readable } from 'node:stream';
import type { MetaStore } from '../../db/store.js';
import { AppError } from '../../lib/errors.js';
import { parseDigest } from '../../oci/digest.js';
import { PathNotFoundError, type ByteRange, type StorageDriver } from '../../storage/driver.js';
import { layout } from '../../storage/layout.js';
import type { RequestContext } from '../context.js';
import type { Namespaces } from './namespaces.js';

export interface BlobRead {
  digest: string;
  size: number;
  /** The bytes served, when a range was asked for. */
  range?: Required<ByteRange>;
  body: Readable;
}

/** Blob reads and deletes. A blob is visible in every repository of a project it is linked to. */
export class BlobService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'blobs'>;
      storage: StorageDriver;
      namespaces: Namespaces;
    },
  ) {}

  async stat(
    _ctx: RequestContext,
    repository: string,
    digest: string,
  ): Promise<{ digest: string; size: number }> {
    parseDigest(digest);
    const project = await this.deps.namespaces.project(repository);
    const size = await this.deps.store.blobs.sizeInProject(project.id, digest);
    if (size === undefined)
      throw new AppError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`, { digest });
    return { digest, size };
  }

  /**
   * A URL of the storage backend serving the blob for 20 minutes (distribution's default), when the driver
   * is configured to redirect (storage.s3.redirect); undefined otherwise.
   */
  async redirectUrl(ctx: RequestContext, repository: string, digest: string): Promise<string | undefined> {
    if (!this.deps.storage.redirectUrl) return undefined;
    await this.stat(ctx, repository, digest);
    return this.deps.storage.redirectUrl(layout.blob(digest), 20 * 60);
  }

  /** Opens the blob, or the inclusive range [start, end] of it (end clipped to the blob's size). */
  async open(ctx: RequestContext, repository: string, digest: string, range?: ByteRange): Promise<BlobRead> {
    const { size } = await this.stat(ctx, repository, digest);
    let served: Required<ByteRange> | undefined;
    if (range) {
      const end = Math.min(range.end ?? size - 1, size - 1);
      if (range.start > end || range.start >= size) {
        throw new AppError(
          'RANGE_INVALID',
          `range ${range.start}-${range.end ?? ''} is outside 0-${size - 1}`,
          {
            size,
          },
        );
      }
      served = { start: range.start, end };
    }
    try {
      const body = await this.deps.storage.read(layout.blob(digest), served);
      return served ? { digest, size, range: served, body } : { digest, size, body };
    } catch (err) {
      if (err instanceof PathNotFoundError) {
        ctx.log.error({ digest }, 'blob recorded in the database is missing from storage');
        throw new AppError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`, { digest });
      }
      throw err;
    }
  }

  /** Unlinks the blob from the project; its bytes stay until garbage collection finds them unreferenced. */
  async delete(_ctx: RequestContext, repository: string, digest: string): Promise<void> {
    parseDigest(digest);
    const project = await this.deps.namespaces.project(repository);
    if (await this.deps.store.blobs.referencedInProject(project.id, digest)) {
      throw new AppError('DENIED', `blob ${digest} is referenced by a manifest; delete the manifest first`);
    }
    if (!(await this.deps.store.blobs.unlink(project.id, digest))) {
      throw new AppError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`, { digest });
    }
  }
}
