import { ContentBoundError } from './bounded-json.js';

export interface TarBounds {
  /** Entries (headers) read before giving up. */
  maxEntries: number;
  /** Largest body kept in memory (a kept file, a pax or GNU long-name record). */
  maxFileBytes: number;
}

/**
 * Reads a tar stream (ustar, with pax and GNU long names) from decompressed chunks and keeps the bodies
 * of the regular files `keep(name, size)` selects; every other body is skipped as it streams past, so
 * memory stays at the kept files. Stops at the end-of-archive block, or as soon as `done(kept)` says so.
 * A malformed header (bad checksum, bad size) ends in ContentBoundError('format').
 */
export async function readTarFiles(
  chunks: AsyncIterable<Buffer>,
  keep: (name: string, size: number) => boolean,
  bounds: TarBounds,
  done: (kept: Map<string, Buffer>) => boolean = () => false,
): Promise<Map<string, Buffer>> {
  const iterator = chunks[Symbol.asyncIterator]();
  try {
    return await readEntries(new ByteQueue(iterator), keep, bounds, done);
  } finally {
    // Stopping early closes the source (and whatever decompresses it).
    await iterator.return?.();
  }
}

async function readEntries(
  input: ByteQueue,
  keep: (name: string, size: number) => boolean,
  bounds: TarBounds,
  done: (kept: Map<string, Buffer>) => boolean,
): Promise<Map<string, Buffer>> {
  const kept = new Map<string, Buffer>();
  let longName: string | undefined;
  for (let entries = 0; ; entries++) {
    if (entries >= bounds.maxEntries)
      throw new ContentBoundError('entries', `more than ${bounds.maxEntries} entries`);
    const header = await input.take(512);
    if (!header || header.every((b) => b === 0)) break;
    const { name, size, type } = parseHeader(header);
    const padded = Math.ceil(size / 512) * 512;
    const entryName = longName ?? name;
    longName = undefined;
    const meta = type === 'L' || type === 'x';
    const wanted = meta || ((type === '0' || type === '\0') && keep(entryName, size));
    if (!wanted) {
      if (!(await input.skip(padded))) break;
      continue;
    }
    if (size > bounds.maxFileBytes)
      throw new ContentBoundError(
        'size',
        `tar entry ${entryName.slice(0, 100)} is larger than ${bounds.maxFileBytes} bytes`,
      );
    const body = await input.take(padded);
    if (!body) throw new ContentBoundError('format', 'tar archive ends inside an entry');
    const content = body.subarray(0, size);
    if (type === 'L') longName = cString(content);
    else if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content.toString('utf8'))?.[1];
    else kept.set(entryName, Buffer.from(content));
    if (done(kept)) break;
  }
  return kept;
}

function parseHeader(h: Buffer): { name: string; size: number; type: string } {
  const stored = parseOctal(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  if (stored !== sum) throw new ContentBoundError('format', 'not a tar archive (bad header checksum)');
  const size = parseOctal(h.subarray(124, 136));
  if (size === undefined) throw new ContentBoundError('format', 'tar header has an unreadable size');
  const name = cString(h.subarray(0, 100));
  const prefix = h.subarray(257, 262).toString('latin1') === 'ustar' ? cString(h.subarray(345, 500)) : '';
  return { name: prefix ? `${prefix}/${name}` : name, size, type: String.fromCharCode(h[156]!) };
}

/** An octal field (NUL or space terminated); undefined when it is not one (base-256 sizes included). */
function parseOctal(field: Buffer): number | undefined {
  const text = cString(field).trim();
  if (!/^[0-7]{1,12}$/.test(text)) return text === '' ? 0 : undefined;
  return parseInt(text, 8);
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

/** Bytes from an async iterator, taken or skipped by count without joining more chunks than needed. */
class ByteQueue {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Exactly `n` bytes, or null when the stream ends first. */
  async take(n: number): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      if (this.buf.length === 0 && !(await this.pull())) return null;
      const piece = this.buf.subarray(0, n - have);
      this.buf = this.buf.subarray(piece.length);
      parts.push(piece);
      have += piece.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** Drops `n` bytes; false when the stream ends first. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.pull())) return false;
      const step = Math.min(left, this.buf.length);
      this.buf = this.buf.subarray(step);
      left -= step;
    }
    return true;
  }

  private async pull(): Promise<boolean> {
    const next = await this.source.next();
    if (next.done) return false;
    this.buf = next.value;
    return true;
  }
}
