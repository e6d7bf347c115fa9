import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ContentBoundError } from './bounded-json.js';

export interface GunzipBounds {
  /** Decompressed bytes allowed in all; a gzip bomb stops here. */
  maxOutputBytes: number;
  /** Wall-clock budget for the whole read. */
  timeoutMs: number;
}

/**
 * Decompresses a gzip stream chunk by chunk. zlib's stream inflates on libuv's thread pool, so the
 * event loop only sees finished chunks; the output is counted as it comes and the read stops at the
 * bounds. Input that is not gzip, a bomb and a slow read all end in ContentBoundError; errors of the
 * source (storage) pass through as they are. The consumer may stop early: the source is closed.
 */
export async function* gunzipBounded(source: Readable, bounds: GunzipBounds): AsyncGenerator<Buffer> {
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  let sourceError: unknown;
  source.on('error', (err) => {
    sourceError = err;
    gunzip.destroy(err);
  });
  source.pipe(gunzip);
  const deadline = Date.now() + bounds.timeoutMs;
  let total = 0;
  try {
    for await (const chunk of gunzip) {
      total += (chunk as Buffer).length;
      if (total > bounds.maxOutputBytes)
        throw new ContentBoundError(
          'decompressed',
          `decompresses to more than ${bounds.maxOutputBytes} bytes`,
        );
      if (Date.now() > deadline)
        throw new ContentBoundError('time', `decompression took longer than ${bounds.timeoutMs} ms`);
      yield chunk as Buffer;
    }
  } catch (err) {
    if (err instanceof ContentBoundError || err === sourceError) throw err;
    if (isZlibError(err))
      throw new ContentBoundError('format', `not a gzip stream: ${(err as Error).message}`);
    throw err;
  } finally {
    source.unpipe(gunzip);
    source.destroy();
    gunzip.destroy();
  }
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
