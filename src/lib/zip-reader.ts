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

/**
 * The entries of a zip archive, a file on disk (read by offset, never whole) or a Buffer, one at a time
 * and in central-directory order; entries the consumer does not `read()` cost nothing. Directory
 * entries are left out. An archive that is not a zip ends in ContentBoundError('format').
 */
export async function* readZipEntries(source: string | Buffer, bounds: ZipBounds): AsyncGenerator<ZipEntry> {
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
  if (entry.uncompressedSize > bounds.maxEntryBytes)
    throw new ContentBoundError(
      'size',
      `zip entry ${entry.fileName} is larger than ${bounds.maxEntryBytes} bytes`,
    );
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
    zip.openReadStream(entry, (err, s) =>
      err || !s
        ? reject(new ContentBoundError('format', `bad zip entry ${entry.fileName}: ${err?.message}`))
        : resolve(s),
    ),
  );
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > bounds.maxEntryBytes)
        throw new ContentBoundError(
          'size',
          `zip entry ${entry.fileName} is larger than ${bounds.maxEntryBytes} bytes`,
        );
      parts.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof ContentBoundError) throw err;
    throw new ContentBoundError('format', `bad zip entry ${entry.fileName}: ${(err as Error).message}`);
  }
  return Buffer.concat(parts, total);
}
