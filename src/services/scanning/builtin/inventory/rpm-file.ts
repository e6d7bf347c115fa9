import { mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TarEntry } from '../../../../lib/tar-reader.js';
import { TooLarge, type FoundPackage } from './package.js';
import { readRpmSqlite } from './rpm.js';

/** Copies the rpm sqlite database out of the layer into a private temporary file, reads it, removes it. */
export async function readRpmFile(
  entry: TarEntry,
  where: Pick<FoundPackage, 'path' | 'layer'>,
  maxBytes: number,
): Promise<FoundPackage[]> {
  if (entry.size > maxBytes) throw new TooLarge(where.path.replace(/^\//, ''), entry.size);
  const dir = await mkdtemp(join(tmpdir(), 'berth-rpmdb-'));
  try {
    const file = join(dir, 'rpmdb.sqlite');
    await pipeline(Readable.from(entry.body()), createWriteStream(file, { mode: 0o600 }));
    return readRpmSqlite(file, where);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
