import { createReadStream, createWriteStream } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { indexTarFile, tarEnd, tarHeaders, tarPadding, type TarFileEntry } from '../../lib/tar-file.js';
import { AppError } from '../../lib/errors.js';
import { createDigester, parseDigest } from '../../oci/digest.js';
import { blobPath } from './export-format.js';

/** An archive's bytes do not match the digest that names them. */
export class DigestMismatchError extends Error {
  constructor(
    readonly digest: string,
    readonly actual: string,
    readonly path: string,
  ) {
    super(`blob ${digest} is corrupt: its bytes hash to ${actual} (${path})`);
    this.name = 'DigestMismatchError';
  }
}

/** A tar target is a file named *.tar; anything else is a folder. */
export const isTarTarget = (target: string) => target.endsWith('.tar');

/** Where an export writes: a folder or a tar file. Both resume what an interrupted export left. */
export interface ArchiveWriter {
  /** True when the blob is already there whole and its bytes match its digest (a resumed export). */
  has(digest: string, size: number): Promise<boolean>;
  /** Streams a blob in, checking its digest on the way; refuses (and keeps nothing) on a mismatch. */
  writeBlob(digest: string, size: number, source: Readable): Promise<void>;
  writeFile(path: string, data: Buffer): Promise<void>;
  symlink(path: string, target: string): Promise<void>;
  close(): Promise<void>;
}

export async function openArchiveWriter(target: string): Promise<ArchiveWriter> {
  return isTarTarget(target) ? TarWriter.open(target) : DirWriter.open(target);
}

/** A transform that hashes what passes and checks digest and size at the end. */
function digestCheck(digest: string, size: number, path: string): Transform {
  const { algorithm, value } = parseDigest(digest);
  const hash = createDigester(algorithm);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (actual !== value) return done(new DigestMismatchError(digest, actual, path));
      if (seen !== size)
        return done(new DigestMismatchError(digest, `${seen} bytes where ${size} were listed`, path));
      done();
    },
  });
}

/** Hashes a stream to the end; rejects with DigestMismatchError when it is not `digest` of `size` bytes. */
export async function checkDigest(
  source: Readable,
  digest: string,
  size: number,
  path: string,
): Promise<void> {
  const sink = new Transform({ transform: (_c, _e, done) => done() });
  sink.resume();
  await pipeline(source, digestCheck(digest, size, path), sink);
}

class DirWriter implements ArchiveWriter {
  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<DirWriter> {
    await mkdir(root, { recursive: true });
    return new DirWriter(root);
  }

  async has(digest: string, size: number): Promise<boolean> {
    const path = join(this.root, blobPath(digest));
    const info = await stat(path).catch(() => undefined);
    if (!info || info.size !== size) return false;
    return checkDigest(createReadStream(path), digest, size, path).then(
      () => true,
      () => false,
    );
  }

  async writeBlob(digest: string, size: number, source: Readable): Promise<void> {
    const path = join(this.root, blobPath(digest));
    await mkdir(dirname(path), { recursive: true });
    // Renamed into place only once whole and checked: a file under its digest's name is always complete.
    const partial = `${path}.partial`;
    try {
      await pipeline(source, digestCheck(digest, size, path), createWriteStream(partial));
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    const full = join(this.root, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(`${full}.partial`, data);
    await rename(`${full}.partial`, full);
  }

  async symlink(path: string, target: string): Promise<void> {
    const full = join(this.root, path);
    await mkdir(dirname(full), { recursive: true });
    await rm(full, { force: true });
    await symlink(target, full);
  }

  async close(): Promise<void> {}
}

/**
 * A tar written by appending. Opening an existing file keeps its leading blob entries whose bytes match
 * their digests and cuts the file after the last of them (a torn entry, metadata or a corrupt blob goes),
 * so an interrupted export continues where it stopped.
 */
class TarWriter implements ArchiveWriter {
  private out: Writable;

  private constructor(
    private readonly path: string,
    private readonly kept: Set<string>,
    position: number,
  ) {
    this.out = createWriteStream(path, { flags: 'r+', start: position });
  }

  static async open(path: string): Promise<TarWriter> {
    await mkdir(dirname(path), { recursive: true });
    const kept = new Set<string>();
    let position = 0;
    const exists = await stat(path).catch(() => undefined);
    if (exists) {
      for (const entry of (await indexTarFile(path)).entries) {
        const digest = blobDigestOf(entry);
        if (!digest) break;
        const whole = await checkDigest(
          createReadStream(path, { start: entry.offset, end: entry.offset + entry.size - 1 }),
          digest,
          entry.size,
          entry.name,
        ).then(
          () => true,
          () => false,
        );
        if (!whole) break;
        kept.add(digest);
        position = entry.end;
      }
      await truncate(path, position);
    } else {
      await (await open(path, 'w')).close();
    }
    return new TarWriter(path, kept, position);
  }

  async has(digest: string): Promise<boolean> {
    return this.kept.has(digest);
  }

  async writeBlob(digest: string, size: number, source: Readable): Promise<void> {
    await this.write(tarHeaders(blobPath(digest), size));
    // Checked on the way out; a mismatch leaves a torn entry that the next open cuts off.
    const check = digestCheck(digest, size, blobPath(digest));
    await pipeline(source, check, this.out, { end: false });
    await this.write(Buffer.alloc(tarPadding(size)));
    this.kept.add(digest);
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    await this.write(
      Buffer.concat([tarHeaders(path, data.length), data, Buffer.alloc(tarPadding(data.length))]),
    );
  }

  async symlink(path: string, target: string): Promise<void> {
    await this.write(tarHeaders(path, 0, { type: '2', linkName: target, mode: 0o777 }));
  }

  async close(): Promise<void> {
    await this.write(tarEnd);
    await new Promise<void>((resolve, reject) =>
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    void this.path;
  }

  private write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (data.length === 0) return resolve();
      this.out.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }
}

const blobEntry = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/;

function blobDigestOf(entry: Pick<TarFileEntry, 'name' | 'type'>): string | undefined {
  const m = entry.type === '0' ? blobEntry.exec(entry.name) : null;
  return m ? `${m[1]}:${m[2]}` : undefined;
}

/** Reads an export, a folder or a tar file, by archive path. */
export interface ArchiveReader {
  /** Size of a regular file; undefined when it is not there. */
  size(path: string): Promise<number | undefined>;
  read(path: string): Promise<Readable>;
  readText(path: string): Promise<string | undefined>;
  /** Digests of every blob file present. */
  blobDigests(): Promise<string[]>;
  /** Target of a symlink; undefined when there is none. */
  link(path: string): Promise<string | undefined>;
}

export async function openArchiveReader(path: string): Promise<ArchiveReader> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new AppError('NOT_FOUND', `${path} does not exist`);
  if (info.isDirectory()) return new DirReader(path);
  const { entries } = await indexTarFile(path);
  return new TarReader(path, new Map(entries.map((e) => [e.name.replace(/\/$/, ''), e])));
}

class DirReader implements ArchiveReader {
  constructor(private readonly root: string) {}

  async size(path: string): Promise<number | undefined> {
    const info = await stat(join(this.root, path)).catch(() => undefined);
    return info?.isFile() ? info.size : undefined;
  }

  async read(path: string): Promise<Readable> {
    return createReadStream(join(this.root, path));
  }

  async readText(path: string): Promise<string | undefined> {
    return readFile(join(this.root, path), 'utf8').catch(() => undefined);
  }

  async blobDigests(): Promise<string[]> {
    const out: string[] = [];
    for (const algorithm of ['sha256', 'sha512']) {
      const names = await readdir(join(this.root, 'blobs', algorithm)).catch(() => [] as string[]);
      for (const hex of names) if (/^[a-f0-9]+$/.test(hex)) out.push(`${algorithm}:${hex}`);
    }
    return out;
  }

  async link(path: string): Promise<string | undefined> {
    const { readlink } = await import('node:fs/promises');
    return readlink(join(this.root, path)).catch(() => undefined);
  }
}

class TarReader implements ArchiveReader {
  constructor(
    private readonly path: string,
    private readonly entries: Map<string, TarFileEntry>,
  ) {}

  async size(path: string): Promise<number | undefined> {
    const e = this.entries.get(path);
    return e?.type === '0' ? e.size : undefined;
  }

  async read(path: string): Promise<Readable> {
    const e = this.entries.get(path);
    if (!e || e.type !== '0') throw new Error(`${path} is not in the archive`);
    if (e.size === 0) return createReadStream(this.path, { start: 1, end: 0 });
    return createReadStream(this.path, { start: e.offset, end: e.offset + e.size - 1 });
  }

  async readText(path: string): Promise<string | undefined> {
    if ((await this.size(path)) === undefined) return undefined;
    const parts: Buffer[] = [];
    for await (const chunk of await this.read(path)) parts.push(chunk as Buffer);
    return Buffer.concat(parts).toString('utf8');
  }

  async blobDigests(): Promise<string[]> {
    return [...this.entries.values()].map(blobDigestOf).filter((d): d is string => d !== undefined);
  }

  async link(path: string): Promise<string | undefined> {
    const e = this.entries.get(path);
    return e?.type === '2' ? e.linkName : undefined;
  }
}
