import { open, type FileHandle } from 'node:fs/promises';
import { cString, parseHeader } from './tar-reader.js';

/**
 * A tar file on disk, by offsets: `tarHeaders` writes the header blocks of one entry (a pax record first
 * when the path or size does not fit ustar), and `indexTarFile` lists the complete entries of a file
 * without reading their bodies, so a reader can stream any entry by its offset and a writer can resume
 * after the last complete one.
 */

const block = 512;
/** ustar's 11 octal digits. */
const maxUstarSize = 0o77777777777;

export interface TarFileEntry {
  name: string;
  /** '0' regular file, '2' symlink, '5' directory. */
  type: string;
  /** The symlink's target. */
  linkName: string;
  size: number;
  /** Where the first header block of the entry starts (its pax record, when it has one). */
  start: number;
  /** Where the body starts. */
  offset: number;
  /** Where the next entry starts (the body padded to a block). */
  end: number;
}

/** Bytes of padding after a body of `size` bytes. */
export function tarPadding(size: number): number {
  return (block - (size % block)) % block;
}

/** The header block(s) of one entry; the caller writes the body and `tarPadding(size)` zero bytes. */
export function tarHeaders(
  name: string,
  size: number,
  options: { type?: '0' | '2' | '5'; linkName?: string; mode?: number; mtime?: number } = {},
): Buffer {
  const type = options.type ?? '0';
  const split = ustarSplit(name);
  const pax: string[] = [];
  if (!split) pax.push(paxRecord('path', name));
  if (size > maxUstarSize) pax.push(paxRecord('size', String(size)));
  if (options.linkName && Buffer.byteLength(options.linkName) > 100)
    pax.push(paxRecord('linkpath', options.linkName));
  const mtime = options.mtime ?? Math.floor(Date.now() / 1000);
  const main = ustarHeader(split ?? { prefix: '', name: name.slice(0, 99) }, {
    size: size > maxUstarSize ? 0 : size,
    type,
    mode: options.mode ?? (type === '5' ? 0o755 : 0o644),
    mtime,
    linkName: (options.linkName ?? '').slice(0, 100),
  });
  if (pax.length === 0) return main;
  const body = Buffer.from(pax.join(''), 'utf8');
  const paxHeader = ustarHeader(
    { prefix: '', name: 'PaxHeader' },
    { size: body.length, type: 'x', mode: 0o644, mtime, linkName: '' },
  );
  return Buffer.concat([paxHeader, body, Buffer.alloc(tarPadding(body.length)), main]);
}

/** Two zero blocks: the end of an archive. */
export const tarEnd = Buffer.alloc(2 * block);

/**
 * The complete entries of a tar file, in order, and where the complete part ends (`validEnd`): an entry
 * cut short by an interrupted writer, a bad header or the end-of-archive blocks stop the walk.
 */
export async function indexTarFile(path: string): Promise<{ entries: TarFileEntry[]; validEnd: number }> {
  const file = await open(path, 'r');
  try {
    const { size: fileSize } = await file.stat();
    const entries: TarFileEntry[] = [];
    let at = 0;
    let validEnd = 0;
    let pax: Record<string, string> = {};
    let start = 0;
    while (at + block <= fileSize) {
      const header = await readAt(file, at, block);
      if (header.every((b) => b === 0)) break;
      let parsed;
      try {
        parsed = parseHeader(header);
      } catch {
        break;
      }
      const body = at + block;
      const size = pax.size !== undefined ? Number(pax.size) : parsed.size;
      const end = body + size + tarPadding(size);
      if (end > fileSize) break;
      if (parsed.type === 'x') {
        if (Object.keys(pax).length === 0) start = at;
        pax = parsePax(await readAt(file, body, size));
        at = end;
        continue;
      }
      if (Object.keys(pax).length === 0) start = at;
      entries.push({
        name: pax.path ?? parsed.name,
        type: parsed.type === '\0' ? '0' : parsed.type,
        linkName: pax.linkpath ?? cString(header.subarray(157, 257)),
        size,
        start,
        offset: body,
        end,
      });
      pax = {};
      at = end;
      validEnd = end;
    }
    return { entries, validEnd };
  } finally {
    await file.close();
  }
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await file.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(body.subarray(at, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

/** `<length> <key>=<value>\n`, where the length counts itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length++;
  return `${length}${rest}`;
}

/** ustar's name (100 bytes) and prefix (155 bytes), split at a '/'; undefined when it does not fit. */
function ustarSplit(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '')
      return { prefix, name };
  }
  return undefined;
}

function ustarHeader(
  path: { prefix: string; name: string },
  f: { size: number; type: string; mode: number; mtime: number; linkName: string },
): Buffer {
  const h = Buffer.alloc(block);
  const octal = (value: number, offset: number, width: number) =>
    h.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, 'ascii');
  h.write(path.name, 0, 100, 'utf8');
  octal(f.mode, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(f.size, 124, 12);
  octal(f.mtime, 136, 12);
  h.write(f.type, 156, 'ascii');
  h.write(f.linkName, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(path.prefix, 345, 155, 'utf8');
  h.fill(' ', 148, 156);
  const sum = h.reduce((acc, byte) => acc + byte, 0);
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}
