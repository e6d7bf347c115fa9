import { readRpmSqliteHeaders } from '../../../../lib/rpm-sqlite.js';
import type { FoundPackage } from './package.js';

const TAG = { name: 1000, version: 1001, release: 1002, epoch: 1003, sourcerpm: 1044 } as const;
const STRING = 6;
const INT32 = 4;
const I18NSTRING = 9;

/**
 * The sqlite rpm database of RHEL 9, Fedora 33+, Rocky/Alma 9 (`/var/lib/rpm/rpmdb.sqlite`,
 * `/usr/lib/sysimage/rpm/rpmdb.sqlite`), read from a temporary copy of the file: its `Packages` table
 * holds one rpm header blob per package. The BerkeleyDB `Packages` of older distributions and SUSE's
 * ndb `Packages.db` are not read (no maintained reader exists on npm).
 */
export function readRpmSqlite(file: string, where: Pick<FoundPackage, 'path' | 'layer'>): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const blob of readRpmSqliteHeaders(file)) {
    const h = parseRpmHeader(blob);
    const name = h.get(TAG.name);
    const version = h.get(TAG.version);
    if (typeof name !== 'string' || typeof version !== 'string' || name === 'gpg-pubkey') continue;
    const epoch = h.get(TAG.epoch);
    const evr = `${typeof epoch === 'number' && epoch > 0 ? `${epoch}:` : ''}${version}-${h.get(TAG.release) ?? ''}`;
    out.push({ kind: 'os', name, version: evr, ...where });
  }
  return out;
}

/** An rpm header without its lead: index count, data size, 16-byte index entries, then the data store. */
export function parseRpmHeader(blob: Buffer): Map<number, string | number> {
  const out = new Map<number, string | number>();
  if (blob.length < 8) return out;
  const count = blob.readUInt32BE(0);
  const dataStart = 8 + count * 16;
  if (dataStart > blob.length) return out;
  for (let i = 0; i < count; i++) {
    const at = 8 + i * 16;
    const tag = blob.readUInt32BE(at);
    const type = blob.readUInt32BE(at + 4);
    const offset = dataStart + blob.readUInt32BE(at + 8);
    if (offset >= blob.length) continue;
    if (type === STRING || type === I18NSTRING) {
      const end = blob.indexOf(0, offset);
      out.set(tag, blob.toString('utf8', offset, end < 0 ? blob.length : end));
    } else if (type === INT32 && offset + 4 <= blob.length) out.set(tag, blob.readInt32BE(offset));
  }
  return out;
}
