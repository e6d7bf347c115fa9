import type { Readable } from 'node:stream';

/**
 * Bytes only. A driver knows paths and streams, nothing about projects, tags or digests.
 * Paths are relative, '/'-separated, and never contain '.' or '..' segments (instrument.ts guards this).
 */
export interface StorageDriver {
  readonly name: string;
  /** Size and modification time of a file; throws PathNotFoundError. */
  stat(path: string): Promise<FileInfo>;
  /** A stream of the file's bytes, optionally the inclusive byte range [start, end]. */
  read(path: string, range?: ByteRange): Promise<Readable>;
  /**
   * Streams `source` into `path` and resolves with the number of bytes written. The write is atomic:
   * readers see the old file or the whole new one, never a part.
   */
  write(path: string, source: Readable): Promise<number>;
  /**
   * Adds `source` to the end of the append file at `path` (an upload session's bytes) and resolves with the
   * bytes added. Its state lives in storage only, so another process may continue it. It is not a file yet:
   * `appendedSize` tells its size, and `seal` turns it into one. A source that fails midway may leave part
   * of its bytes appended; `appendedSize` then tells how many are kept.
   */
  append(path: string, source: Readable): Promise<number>;
  /** Bytes appended at `path` so far (0 when nothing was). */
  appendedSize(path: string): Promise<number>;
  /** Makes the appended bytes the file at `path` (an empty file when nothing was appended). */
  seal(path: string): Promise<void>;
  /** Atomic small-file write, on durable storage when it resolves. */
  putContent(path: string, data: Buffer): Promise<void>;
  /**
   * As `putContent`, but resolves as soon as the whole file is at `path` for every reader and survives the
   * process being killed; `durable` settles once it is on the disk too (at once where there is no
   * difference), so the caller can do other work while the disk flushes and answer after both.
   */
  stageContent(path: string, data: Buffer): Promise<{ durable: Promise<void> }>;
  getContent(path: string): Promise<Buffer>;
  /** Moves a file, replacing any file at `to`. */
  move(from: string, to: string): Promise<void>;
  /** Deletes a file or a whole folder; throws PathNotFoundError when nothing is there. */
  delete(path: string): Promise<void>;
  /**
   * Deletes files and folders in as few calls as the technology allows; missing ones are skipped. A
   * folder a deleted file leaves empty goes too (as on S3, where folders are only key prefixes).
   */
  deleteMany(paths: string[]): Promise<void>;
  /** Names of the direct children of a folder (empty when it does not exist). */
  list(path: string): Promise<string[]>;
  /**
   * A URL serving the file's bytes directly, valid for `expiresInSeconds`, for a client to be redirected
   * to; undefined when the driver does not serve redirects (or is configured not to).
   */
  redirectUrl?(path: string, expiresInSeconds: number): Promise<string | undefined>;
  /** Releases connections (drivers that hold any). */
  close?(): void;
}

export interface FileInfo {
  size: number;
  modified: Date;
  isDirectory: boolean;
}

export interface ByteRange {
  start: number;
  /** Inclusive; omitted means to the end. */
  end?: number;
}

export class PathNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`path not found: ${path}`);
    this.name = 'PathNotFoundError';
  }
}

export class InvalidPathError extends Error {
  constructor(readonly path: string) {
    super(`invalid storage path: ${JSON.stringify(path)}`);
    this.name = 'InvalidPathError';
  }
}

/** Rejects absolute paths, empty segments and '.'/'..' so no caller can escape the driver's root. */
export function assertSafePath(path: string): void {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) {
    throw new InvalidPathError(path);
  }
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw new InvalidPathError(path);
  }
}
