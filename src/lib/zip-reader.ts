import { readFile, stat } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { ContentBoundError } from './bounded-json.js';

export interface ZipEntry {
  name: string;
  /** Uncompressed size, as the central directory records it. */
  size: number;
  /** The entry's bytes, refused (ContentBoundError 'size') past `maxEntryBytes` whatever the header says. */
  read(): Promise<Buffer>;
}

export interface ZipBounds {
  maxEntries: number;
  maxEntryBytes: number;
}

/** A zip file up to this size is read into memory once: 100 000 small entries read by offset cost minutes. */
const IN_MEMORY_BYTES = 512 * 1024 * 1024;

/**
 * The entries of a zip archive, a file (read into memory up to 512 MiB, by offset past that) or a Buffer, one at a time
 * and in central-directory order; entries the consumer does not `read()` cost nothing. Directory
 * entries are left out. An archive that is not a zip ends in ContentBoundError('format').
 */
export async function* readZipEntries(source: string | Buffer, bounds: ZipBounds): AsyncGenerator<ZipEntry> {
  if (typeof source === 'string' && (await stat(source)).size <= IN_MEMORY_BYTES)
    source = await readFile(source);
  if (Buffer.isBuffer(source)) {
    yield* bufferEntries(source, bounds);
    return;
  }
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    const done = (err: Error | null, z?: yauzl.ZipFile) =>
      err || !z ? reject(new ContentBoundError('format', `not a zip archive: ${err?.message}`)) : resolve(z);
    const options = { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true };
    if (typeof source === 'string') yauzl.open(source, options, done);
    else yauzl.fromBuffer(source, options, done);
  });
  try {
    if (zip.entryCount > bounds.maxEntries)
      throw new ContentBoundError('entries', `more than ${bounds.maxEntries} entries`);
    for (;;) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => {
          zip.off('end', onEnd).off('error', onError);
          resolve(e);
        };
        const onEnd = () => {
          zip.off('entry', onEntry).off('error', onError);
          resolve(null);
        };
        const onError = (err: Error) => {
          zip.off('entry', onEntry).off('end', onEnd);
          reject(new ContentBoundError('format', `bad zip archive: ${err.message}`));
        };
        zip.once('entry', onEntry).once('end', onEnd).once('error', onError);
        zip.readEntry();
      });
      if (!entry) return;
      if (entry.fileName.endsWith('/')) continue;
      yield { name: entry.fileName, size: entry.uncompressedSize, read: () => readEntry(zip, entry, bounds) };
    }
  } finally {
    zip.close();
  }
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, bounds: ZipBounds): Promise<Buffer> {
  const tooLarge = () =>
    new ContentBoundError('size', `zip entry ${entry.fileName} is larger than ${bounds.maxEntryBytes} bytes`);
  if (entry.uncompressedSize > bounds.maxEntryBytes) throw tooLarge();
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
    throw new ContentBoundError(
      'format',
      `zip entry ${entry.fileName} uses compression method ${entry.compressionMethod}`,
    );
  // The stored bytes are read raw and inflated in one synchronous call: a zlib stream per entry costs a
  // thread-pool round trip each, which dominated imports of 100 000 small records.
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
    zip.openReadStream(entry, { decompress: false }, (err, s) =>
      err || !s
        ? reject(new ContentBoundError('format', `bad zip entry ${entry.fileName}: ${err?.message}`))
        : resolve(s),
    ),
  );
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  const raw = Buffer.concat(parts);
  if (entry.compressionMethod === 0) {
    if (raw.length > bounds.maxEntryBytes) throw tooLarge();
    return raw;
  }
  let out: Buffer;
  try {
    out = inflateRawSync(raw, { maxOutputLength: bounds.maxEntryBytes + 1 });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new ContentBoundError('format', `bad zip entry ${entry.fileName}: ${(err as Error).message}`);
  }
  if (out.length > bounds.maxEntryBytes) throw tooLarge();
  if (out.length !== entry.uncompressedSize)
    throw new ContentBoundError('format', `zip entry ${entry.fileName} is not the size its header says`);
  return out;
}

/**
 * The entries of a zip held in memory, walked through its central directory (zip64 end records
 * included) without yauzl's per-entry streams: each entry is one synchronous inflate.
 */
function* bufferEntries(zip: Buffer, bounds: ZipBounds): Generator<ZipEntry> {
  const bad = (why: string) => new ContentBoundError('format', `not a zip archive: ${why}`);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]), zip.length - 22);
  if (eocd < 0 || zip.length < 22) throw bad('no end of central directory record');
  let count = zip.readUInt16LE(eocd + 10);
  let dirOffset = zip.readUInt32LE(eocd + 16);
  if (eocd >= 20 && zip.readUInt32LE(eocd - 20) === 0x07064b50) {
    const at = Number(zip.readBigUInt64LE(eocd - 12));
    if (at + 56 > zip.length || zip.readUInt32LE(at) !== 0x06064b50) throw bad('bad zip64 end record');
    count = Number(zip.readBigUInt64LE(at + 32));
    dirOffset = Number(zip.readBigUInt64LE(at + 48));
  }
  if (count > bounds.maxEntries)
    throw new ContentBoundError('entries', `more than ${bounds.maxEntries} entries`);
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50)
      throw bad(`bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (compressed === 0xffffffff || size === 0xffffffff || local === 0xffffffff)
      throw bad(`entry ${name} needs zip64 sizes, which are not read`);
    const read = async (): Promise<Buffer> => {
      if (size > bounds.maxEntryBytes)
        throw new ContentBoundError('size', `zip entry ${name} is larger than ${bounds.maxEntryBytes} bytes`);
      if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50)
        throw bad(`bad local header of ${name}`);
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      if (start + compressed > zip.length) throw bad(`entry ${name} runs past the end`);
      const raw = zip.subarray(start, start + compressed);
      if (method === 0) return Promise.resolve(Buffer.from(raw));
      if (method !== 8) throw bad(`entry ${name} uses compression method ${method}`);
      let out: Buffer;
      try {
        out = inflateRawSync(raw, { maxOutputLength: bounds.maxEntryBytes + 1 });
      } catch (err) {
        throw new ContentBoundError('format', `bad zip entry ${name}: ${(err as Error).message}`);
      }
      if (out.length !== size)
        throw new ContentBoundError('format', `zip entry ${name} is not the size its header says`);
      return out;
    };
    yield { name, size, read };
  }
}
