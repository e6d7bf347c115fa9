import { ContentBoundError } from './bounded-json.js';

export interface TarBounds {
  /** Entries (headers) read before giving up. */
  maxEntries: number;
  /** Largest body kept in memory (a kept file, a pax or GNU long-name record). */
  maxFileBytes: number;
}

/** One entry of a tar stream, as `readTarEntries` yields it. */
export interface TarEntry {
  /** The path, with pax and GNU long names applied. */
  name: string;
  size: number;
  /** ustar type flag: '0' regular file, '5' directory, '2' symlink, '1' hard link, ... */
  type: string;
  mode: number;
  /** The entry's bytes, streamed; what is not read is skipped when the walk moves on. */
  body(): AsyncGenerator<Buffer>;
  /** The whole body as one Buffer; refuses (ContentBoundError 'size') past `maxFileBytes`. */
  read(): Promise<Buffer>;
}

/**
 * Walks a tar stream (ustar, with pax and GNU long names) from decompressed chunks, one entry at a time;
 * the consumer streams or reads the bodies it wants, and the rest are skipped as they stream past, so
 * memory stays at what the consumer keeps. Stops at the end-of-archive block or when the consumer stops.
 * A malformed header (bad checksum, bad size) ends in ContentBoundError('format').
 */
export async function* readTarEntries(
  chunks: AsyncIterable<Buffer>,
  bounds: TarBounds,
): AsyncGenerator<TarEntry> {
  const iterator = chunks[Symbol.asyncIterator]();
  const input = new ByteQueue(iterator);
  try {
    let longName: string | undefined;
    for (let entries = 0; ; entries++) {
      if (entries >= bounds.maxEntries)
        throw new ContentBoundError('entries', `more than ${bounds.maxEntries} entries`);
      const header = await input.take(512);
      if (!header || header.every((b) => b === 0)) break;
      const { name, size, type, mode } = parseHeader(header);
      const padded = Math.ceil(size / 512) * 512;
      const entryName = longName ?? name;
      longName = undefined;
      if (type === 'L' || type === 'x') {
        if (size > bounds.maxFileBytes)
          throw new ContentBoundError(
            'size',
            `tar ${type === 'L' ? 'long name' : 'pax'} record is too large`,
          );
        const body = await input.take(padded);
        if (!body) throw new ContentBoundError('format', 'tar archive ends inside an entry');
        const content = body.subarray(0, size);
        longName =
          type === 'L' ? cString(content) : /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content.toString('utf8'))?.[1];
        continue;
      }
      let consumed = 0;
      async function* body(): AsyncGenerator<Buffer> {
        while (consumed < size) {
          const piece = await input.next(size - consumed);
          if (!piece) throw new ContentBoundError('format', 'tar archive ends inside an entry');
          consumed += piece.length;
          yield piece;
        }
      }
      const read = async (): Promise<Buffer> => {
        if (size > bounds.maxFileBytes)
          throw new ContentBoundError(
            'size',
            `tar entry ${entryName.slice(0, 100)} is larger than ${bounds.maxFileBytes} bytes`,
          );
        const parts: Buffer[] = [];
        for await (const piece of body()) parts.push(piece);
        return Buffer.concat(parts, size);
      };
      yield { name: entryName, size, type: type === '\0' ? '0' : type, mode, body, read };
      if (!(await input.skip(padded - consumed))) break;
    }
  } finally {
    // Stopping early closes the source (and whatever decompresses it).
    await iterator.return?.();
  }
}

/**
 * Keeps the bodies of the regular files `keep(name, size)` selects (see readTarEntries); stops early as
 * soon as `done(kept)` says so.
 */
export async function readTarFiles(
  chunks: AsyncIterable<Buffer>,
  keep: (name: string, size: number) => boolean,
  bounds: TarBounds,
  done: (kept: Map<string, Buffer>) => boolean = () => false,
): Promise<Map<string, Buffer>> {
  const kept = new Map<string, Buffer>();
  for await (const entry of readTarEntries(chunks, bounds)) {
    if (entry.type !== '0' || !keep(entry.name, entry.size)) continue;
    kept.set(entry.name, Buffer.from(await entry.read()));
    if (done(kept)) break;
  }
  return kept;
}

/** One ustar header block: checksum checked, ustar prefix joined to the name. */
export function parseHeader(h: Buffer): { name: string; size: number; type: string; mode: number } {
  const stored = parseOctal(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  if (stored !== sum) throw new ContentBoundError('format', 'not a tar archive (bad header checksum)');
  const size = parseOctal(h.subarray(124, 136));
  if (size === undefined) throw new ContentBoundError('format', 'tar header has an unreadable size');
  const name = cString(h.subarray(0, 100));
  const prefix = h.subarray(257, 262).toString('latin1') === 'ustar' ? cString(h.subarray(345, 500)) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size,
    type: String.fromCharCode(h[156]!),
    mode: parseOctal(h.subarray(100, 108)) ?? 0,
  };
}

/** An octal field (NUL or space terminated); undefined when it is not one (base-256 sizes included). */
function parseOctal(field: Buffer): number | undefined {
  const text = cString(field).trim();
  if (!/^[0-7]{1,12}$/.test(text)) return text === '' ? 0 : undefined;
  return parseInt(text, 8);
}

export function cString(b: Buffer): string {
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

  /** Up to `max` bytes as they arrive (no joining), or null when the stream ends. */
  async next(max: number): Promise<Buffer | null> {
    if (this.buf.length === 0 && !(await this.pull())) return null;
    const piece = this.buf.subarray(0, max);
    this.buf = this.buf.subarray(piece.length);
    return piece;
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
