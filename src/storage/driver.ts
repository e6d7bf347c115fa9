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
   * Streams `source` into `path` and resolves with the number of bytes written. Without `append` the write
   * is atomic (temporary name, flushed, renamed): readers see the old file or the whole new one. With
   * `append`, bytes are added to the end (creating the file) and flushed before the promise resolves.
   */
  write(path: string, source: Readable, options?: WriteOptions): Promise<number>;
  /** Atomic small-file write. */
  putContent(path: string, data: Buffer): Promise<void>;
  getContent(path: string): Promise<Buffer>;
  /** Moves a file, replacing any file at `to`. */
  move(from: string, to: string): Promise<void>;
  /** Deletes a file or a whole folder; throws PathNotFoundError when nothing is there. */
  delete(path: string): Promise<void>;
  /** Names of the direct children of a folder (empty when it does not exist). */
  list(path: string): Promise<string[]>;
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

export interface WriteOptions {
  append?: boolean;
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
