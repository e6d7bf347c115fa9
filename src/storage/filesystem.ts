import {
  closeSync,
  constants,
  fdatasync as fdatasyncCb,
  createWriteStream,
  fstat as fstatCb,
  mkdirSync,
  open as openCb,
  openSync,
  renameSync,
  rmSync,
  write as writeCb,
  writeSync,
  type Dirent,
  type WriteStream,
} from 'node:fs';
import * as fs from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { z } from 'zod';
import {
  assertSafePath,
  PathNotFoundError,
  type ByteRange,
  type FileInfo,
  type StorageDriver,
} from './driver.js';
import { collectGarbage } from '../lib/collect-garbage.js';
import { isRecycling, type RecyclingReadable } from '../lib/recycling.js';
import { FileReadStream, SparePool } from './file-read-stream.js';

const openFd = promisify(openCb);
const fstat = promisify(fstatCb);
const writeAt = promisify(
  (
    fd: number,
    b: Buffer,
    offset: number,
    length: number,
    position: number,
    cb: (e: Error | null, n: number) => void,
  ) => writeCb(fd, b, offset, length, position, cb),
);
const stagedFileFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
const newFileFlags = stagedFileFlags | constants.O_DSYNC;

/**
 * Creates a file to write, in a folder made first: a new blob's folder never exists yet (a PUT of a manifest
 * the registry holds is the rare case, answered EEXIST).
 */
function openNewFile(file: string, flags = newFileFlags): number {
  try {
    mkdirSync(dirname(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') mkdirSync(dirname(file), { recursive: true });
    else if (code !== 'EEXIST') throw err;
  }
  return openSync(file, flags, 0o666);
}
const maxRead = 1024 * 1024;
/**
 * Full-size read buffers handed back by finished pulls, for the next ones: at most 32 MiB kept, fewer as
 * fewer are taken again, and none once no pull has taken one for 5 s. Then one full GC frees them and the
 * other chunks the busy spell left (issue 13: after a 200-client load an idle Berth kept ~130 MiB more RSS,
 * as nothing triggered a GC).
 */
const sharedSpares = new SparePool(maxRead, 32, {
  idleMs: 5000,
  onIdle: collectGarbage,
  arenas: true,
});
/**
 * A file write takes up to this many bytes before its source waits. Node's default (16 KiB) lets one
 * network chunk (~64 KiB) at a time reach the thread pool, a round trip through the event loop each, so a
 * busy loop wrote a proxied 64 MiB blob well behind the network; with 1 MiB the chunks queued meanwhile go
 * down in one writev (docs/proxy-cache.md: storage held 60-290 MiB behind the clients, now 20-30).
 */
const writeHighWaterMark = 1024 * 1024;
/** What a recycling source's write may hold queued and in flight: a writev in flight and the next one. */
const lentWriteAhead = 4 * writeHighWaterMark;
/**
 * Reads of files larger than 1 MiB, while fewer than 16 are in flight, take 1 MiB chunks (what a lone
 * pull's throughput needs); every other read of more than `ownRead` bytes takes 128 KiB chunks. Each read
 * holds a chunk or two: 200 concurrent pulls at 1 MiB held 200-400 MiB (the bench's peak RSS, issue 15),
 * at 128 KiB 25-50. Reads of small files take pooled chunks too, because buffers of each file's own size,
 * garbage as soon as the answer is sent, made the load row's memory outside the heap swing by tens of MiB
 * between V8's full collections; and a file of 1 MiB or less gains nothing from 1 MiB reads, while a burst
 * of such reads left up to 32 MiB of them in the shared pool (issue 15). The pool keeps what a steady load
 * takes again (at most 64 MiB).
 */
const smallRead = 128 * 1024;
const manyReads = 16;
const smallSpares = new SparePool(smallRead, 512, {
  idleMs: 5000,
  onIdle: collectGarbage,
  arenas: true,
});
/** Up to this size a file is read into a buffer of its own size, in one read: small garbage. */
const ownRead = 16 * 1024;
let openReads = 0;

export const filesystemOptions = z.object({ root: z.string().min(1) }).strict();
export type FilesystemOptions = z.infer<typeof filesystemOptions>;

/** Local-disk driver: fsync before rename for atomic writes; append for upload sessions. */
export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';
  private readonly root: string;

  constructor(options: FilesystemOptions) {
    this.root = resolve(options.root);
  }

  private full(path: string): string {
    assertSafePath(path);
    const full = join(this.root, ...path.split('/'));
    if (!full.startsWith(this.root + sep)) throw new PathNotFoundError(path);
    return full;
  }

  async stat(path: string): Promise<FileInfo> {
    try {
      const st = await fs.stat(this.full(path));
      return { size: st.size, modified: st.mtime, isDirectory: st.isDirectory() };
    } catch (err) {
      throw mapError(err, path);
    }
  }

  async read(path: string, range?: ByteRange): Promise<Readable> {
    const full = this.full(path);
    // Open first so a missing file is an error here, not an 'error' event on a stream already sent.
    let fd: number;
    try {
      fd = await openFd(full, 'r');
    } catch (err) {
      throw mapError(err, path);
    }
    let size: number;
    try {
      size = (await fstat(fd)).size;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    const start = Math.min(range?.start ?? 0, size);
    const end = Math.min(range?.end ?? size - 1, size - 1);
    // Reads of up to 1 MiB (a file of up to 16 KiB gets one buffer of its own size) on a plain descriptor, into
    // memory the consumer may hand back (see lib/recycling.ts).
    const length = Math.max(1, end - start + 1);
    const stream =
      length <= ownRead
        ? new FileReadStream(fd, start, Math.max(start, end + 1), length)
        : length > maxRead && openReads < manyReads
          ? new FileReadStream(fd, start, end + 1, maxRead, sharedSpares)
          : new FileReadStream(fd, start, end + 1, smallRead, smallSpares);
    openReads++;
    stream.once('close', () => openReads--);
    return stream;
  }

  async write(path: string, source: Readable): Promise<number> {
    const full = this.full(path);
    await fs.mkdir(dirname(full), { recursive: true });
    const tmp = `${full}.tmp-${randomUUID()}`;
    const out = createWriteStream(tmp, { flags: 'wx', flush: true, highWaterMark: writeHighWaterMark });
    try {
      await (isRecycling(source) ? writeLent(source, out) : pipeline(source, out));
      await fs.rename(tmp, full);
      return out.bytesWritten;
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  /** The append file is the file itself, flushed after each append; sealing it has nothing to do. */
  async append(path: string, source: Readable): Promise<number> {
    const full = this.full(path);
    await fs.mkdir(dirname(full), { recursive: true });
    const out = createWriteStream(full, { flags: 'a', flush: true, highWaterMark: writeHighWaterMark });
    await pipeline(source, out);
    return out.bytesWritten;
  }

  async appendedSize(path: string): Promise<number> {
    try {
      return (await fs.stat(this.full(path))).size;
    } catch (err) {
      if (mapError(err, path) instanceof PathNotFoundError) return 0;
      throw err;
    }
  }

  async seal(path: string): Promise<void> {
    const full = this.full(path);
    const handle = await fs.open(full, 'a').catch(async (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await fs.mkdir(dirname(full), { recursive: true });
      return fs.open(full, 'a');
    });
    await handle.close();
  }

  /**
   * Small files (manifests): the metadata steps (open, close, rename; mkdir only when the folder is new) are
   * synchronous calls the page cache answers in microseconds, and only the one that waits on the disk, the
   * write through O_DSYNC (fdatasync's guarantee: the bytes and the size that finds them), goes to the
   * thread pool. Six round trips through the pool, each a wake-up of a pool thread and one of the loop,
   * were most of a manifest PUT's wait (issue 15).
   */
  async putContent(path: string, data: Buffer): Promise<void> {
    const full = this.full(path);
    const tmp = `${full}.tmp-${randomUUID()}`;
    const fd = openNewFile(tmp);
    try {
      for (let at = 0; at < data.length;) at += await writeAt(fd, data, at, data.length - at, at);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    try {
      renameSync(tmp, full);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /**
   * A manifest PUT's file (issue 15). Written into the page cache and renamed into place by synchronous
   * calls (microseconds for a few KiB), so it is whole at its path, and survives the process being killed,
   * before the caller commits the rows that name it. Only the flush to the disk (fdatasync, 0.5-1 ms on
   * the bench machine's disk, most of a PUT's wait at concurrency 1) goes to the thread pool, and runs
   * while the caller's transaction does.
   */
  async stageContent(path: string, data: Buffer): Promise<{ durable: Promise<void> }> {
    const full = this.full(path);
    const tmp = `${full}.tmp-${randomUUID()}`;
    const fd = openNewFile(tmp, stagedFileFlags);
    try {
      for (let at = 0; at < data.length;) at += writeSync(fd, data, at, data.length - at, at);
      renameSync(tmp, full);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    const durable = new Promise<void>((resolve, reject) =>
      fdatasyncCb(fd, (err) => {
        try {
          closeSync(fd);
        } catch (closeErr) {
          err ??= closeErr as NodeJS.ErrnoException;
        }
        if (err) reject(err);
        else resolve();
      }),
    );
    return { durable };
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.full(path));
    } catch (err) {
      throw mapError(err, path);
    }
  }

  async move(from: string, to: string): Promise<void> {
    const src = this.full(from);
    const dst = this.full(to);
    await fs.mkdir(dirname(dst), { recursive: true });
    try {
      await fs.rename(src, dst);
    } catch (err) {
      throw mapError(err, from);
    }
  }

  async delete(path: string): Promise<void> {
    try {
      await removeTree(this.full(path));
    } catch (err) {
      throw mapError(err, path);
    }
  }

  async deleteMany(paths: string[]): Promise<void> {
    // A few at once: each call blocks a thread-pool thread (four of them) on the disk's journal.
    const full = paths.map((p) => this.full(p)); // every path checked before anything goes
    let next = 0;
    const one = async () => {
      while (next < full.length) await this.deleteOne(full[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(4, full.length) }, one));
  }

  /**
   * A file goes in one call, and its folder in one more when that leaves it empty (as on S3, where a
   * folder is only a prefix): garbage collection deletes a blob's `data` in two calls instead of three.
   * A folder goes whole; a missing path is skipped.
   */
  private async deleteOne(full: string): Promise<void> {
    try {
      await fs.unlink(full);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'EPERM') return removeTree(full).catch(ignoreMissing);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    const folder = dirname(full);
    if (folder === this.root) return;
    await fs.rmdir(folder).catch((err: NodeJS.ErrnoException) => {
      if (!['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes(err.code ?? '')) throw err;
    });
  }

  async list(path: string): Promise<string[]> {
    try {
      return (await fs.readdir(this.full(path))).filter((n) => !n.includes('.tmp-'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

/**
 * Removes a file or a folder with what is in it, in as few system calls as a blob's folder allows
 * (readdir, unlink, rmdir: garbage collection deletes tens of thousands of them; fs.rm's rimraf
 * spends seven). Entries that vanish meanwhile (a concurrent delete) are fine; a missing root is not.
 */
async function removeTree(full: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(full, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    await fs.unlink(full);
    return;
  }
  await Promise.all(
    entries.map((e) =>
      (e.isDirectory() ? removeTree(join(full, e.name)) : fs.unlink(join(full, e.name))).catch(ignoreMissing),
    ),
  );
  await fs.rmdir(full).catch(async (err: NodeJS.ErrnoException) => {
    // Something was written into the folder meanwhile: it goes too, as with fs.rm.
    if (err.code === 'ENOTEMPTY') return removeTree(full);
    ignoreMissing(err);
  });
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

function mapError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' ? new PathNotFoundError(path) : err;
}

/**
 * Writes a recycling source (lib/recycling.ts): each chunk goes back to it once it is in the file, so the
 * memory it was read into is read into again (a proxied blob: BlobFetches). The source waits only while
 * `lentWriteAhead` bytes are queued or in flight, and then only until the write in flight completes (Node
 * then sends every chunk queued meanwhile down in one writev at once), not until the queue is empty as
 * after 'drain': the thread pool has the next writev to do as soon as it finishes one.
 * (Waiting for 'drain' left the pool idle for a loop round trip after every writev, and storage fell up to
 * a whole 64 MiB blob behind the clients: docs/proxy-cache.md.)
 */
async function writeLent(source: RecyclingReadable, out: WriteStream): Promise<void> {
  let wake: (() => void) | undefined;
  const woken = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  out.on('close', woken);
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      out.write(chunk, (err) => {
        if (!err) source.recycle(chunk);
        woken();
      });
      while (out.writableLength >= lentWriteAhead && !out.destroyed)
        await new Promise<void>((resolve) => (wake = resolve));
      if (out.destroyed) break;
    }
    out.end();
    await finished(out);
  } catch (err) {
    // A write still on the thread pool ends with ERR_STREAM_DESTROYED, which the destroyed stream then
    // emits as 'error': without a listener, an uncaught exception (seen when a proxied blob failed its
    // digest while storage wrote: test/e2e/proxy-cache/pull-through.test.ts). The error to report is err.
    out.on('error', () => undefined);
    out.destroy();
    source.destroy();
    throw err;
  }
}
