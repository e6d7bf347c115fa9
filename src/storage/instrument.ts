import type { Readable } from 'node:stream';
import type { Histogram } from 'prom-client';
import { AppError } from '../lib/errors.js';
import { assertSafePath, type ByteRange, type StorageDriver } from './driver.js';

/**
 * Wraps any driver: every path is checked before the driver sees it, and every call is timed into the
 * `berth_storage_operation_seconds` histogram labelled by driver and operation. A backend that is out of
 * reach or overloaded (connection refused or reset, timeouts, I/O errors, an S3 5xx or SlowDown) becomes
 * UNAVAILABLE, which clients see as 503 with Retry-After: the request failed whole, nothing was half
 * written where a reader could see it (blobs are written under temporary names, then moved).
 */
export class InstrumentedDriver implements StorageDriver {
  readonly name: string;
  /** Present only when the driver redirects, so callers pay nothing for it otherwise. */
  readonly redirectUrl?: (path: string, expiresInSeconds: number) => Promise<string | undefined>;

  constructor(
    private readonly inner: StorageDriver,
    private readonly histogram: Histogram<'driver' | 'operation'>,
  ) {
    this.name = inner.name;
    const redirect = inner.redirectUrl?.bind(inner);
    if (redirect) {
      this.redirectUrl = (path, expires) => this.timed('redirect_url', [path], () => redirect(path, expires));
    }
  }

  private async timed<T>(operation: string, paths: string[], fn: () => Promise<T>): Promise<T> {
    for (const p of paths) assertSafePath(p);
    const end = this.histogram.startTimer({ driver: this.name, operation });
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    } finally {
      end();
    }
  }

  stat(path: string) {
    return this.timed('stat', [path], () => this.inner.stat(path));
  }
  read(path: string, range?: ByteRange): Promise<Readable> {
    return this.timed('read', [path], () => this.inner.read(path, range));
  }
  write(path: string, source: Readable) {
    return this.timed('write', [path], () => this.inner.write(path, source));
  }
  append(path: string, source: Readable) {
    return this.timed('append', [path], () => this.inner.append(path, source));
  }
  appendedSize(path: string) {
    return this.timed('appended_size', [path], () => this.inner.appendedSize(path));
  }
  seal(path: string) {
    return this.timed('seal', [path], () => this.inner.seal(path));
  }
  putContent(path: string, data: Buffer) {
    return this.timed('put_content', [path], () => this.inner.putContent(path, data));
  }
  async stageContent(path: string, data: Buffer) {
    const { durable } = await this.timed('stage_content', [path], () => this.inner.stageContent(path, data));
    return { durable: this.timed('stage_content_flush', [], () => durable) };
  }
  getContent(path: string) {
    return this.timed('get_content', [path], () => this.inner.getContent(path));
  }
  move(from: string, to: string) {
    return this.timed('move', [from, to], () => this.inner.move(from, to));
  }
  delete(path: string) {
    return this.timed('delete', [path], () => this.inner.delete(path));
  }
  deleteMany(paths: string[]) {
    return this.timed('delete_many', paths, () => this.inner.deleteMany(paths));
  }
  list(path: string) {
    return this.timed('list', [path], () => this.inner.list(path));
  }
  close(): void {
    this.inner.close?.();
  }
}

const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  'EIO',
  'ENOTCONN',
  'ESTALE',
]);
const transientNames = new Set([
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'TimeoutError',
  'InternalError',
]);

function unavailable(err: unknown): unknown {
  const e = err as { code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  const transient =
    (typeof e?.code === 'string' && transientCodes.has(e.code)) ||
    (typeof e?.name === 'string' && transientNames.has(e.name)) ||
    status >= 500;
  return transient ? new AppError('UNAVAILABLE', 'storage is unavailable; retry shortly') : err;
}
