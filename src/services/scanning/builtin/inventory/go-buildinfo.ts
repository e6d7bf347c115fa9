import type { FoundPackage } from './package.js';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER = 32;
/** Most bytes kept after the magic: the version and module strings, which a large binary makes long. */
const MAX_INFO = 4 * 1024 * 1024;
/** modinfo is wrapped in these 16-byte sentinels (cmd/go/internal/modload). */
const INFO_START = 16;

export interface GoBuildInfo {
  goVersion: string;
  path: string;
  main?: { path: string; version: string };
  deps: Array<{ path: string; version: string }>;
}

/**
 * Reads the build information Go (1.18+) embeds in a binary (Go's `debug/buildinfo`): the
 * `\xff Go buildinf:` magic, a 32-byte header (pointer size, flags; flag 2 = strings inline), then two
 * varint-length-prefixed strings, the Go version and the module info (`path`, `mod`, `dep` and `=>`
 * replacement lines). The binary streams past: only the bytes after the magic are kept, bounded.
 * Binaries of Go before 1.18 keep the strings behind pointers and are not read.
 */
export async function readGoBuildInfo(chunks: AsyncIterable<Buffer>): Promise<GoBuildInfo | undefined> {
  let carry: Buffer = Buffer.alloc(0);
  let found: Buffer[] | undefined;
  let have = 0;
  for await (const chunk of chunks) {
    if (!found) {
      const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const at = data.indexOf(MAGIC);
      if (at < 0) {
        carry = data.subarray(Math.max(0, data.length - MAGIC.length + 1));
        continue;
      }
      found = [data.subarray(at)];
      have = data.length - at;
    } else {
      found.push(chunk);
      have += chunk.length;
    }
    const info = tryParse(Buffer.concat(found, have));
    if (info !== 'more') return info;
    if (have > MAX_INFO) return undefined;
  }
  if (!found) return undefined;
  const info = tryParse(Buffer.concat(found, have));
  return info === 'more' ? undefined : info;
}

function tryParse(b: Buffer): GoBuildInfo | undefined | 'more' {
  if (b.length < HEADER) return 'more';
  const flags = b[15]!;
  if ((flags & 2) === 0) return undefined;
  let pos = HEADER;
  const strings: string[] = [];
  for (let i = 0; i < 2; i++) {
    const v = varint(b, pos);
    if (!v) return 'more';
    if (v.next + v.value > b.length) return v.value > MAX_INFO ? undefined : 'more';
    strings.push(b.toString('utf8', v.next, v.next + v.value));
    pos = v.next + v.value;
  }
  let mod = strings[1]!;
  if (mod.length >= 2 * INFO_START + 1 && mod[mod.length - INFO_START - 1] === '\n')
    mod = mod.slice(INFO_START, mod.length - INFO_START);
  return parseModInfo(strings[0]!, mod);
}

function varint(b: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0, shift = 1; i < 10; i++, shift *= 128) {
    if (at + i >= b.length) return undefined;
    const byte = b[at + i]!;
    value += (byte & 0x7f) * shift;
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return undefined;
}

function parseModInfo(goVersion: string, text: string): GoBuildInfo {
  const info: GoBuildInfo = { goVersion, path: '', deps: [] };
  for (const line of text.split('\n')) {
    const [kind, path = '', version = ''] = line.split('\t');
    if (kind === 'path') info.path = path;
    else if (kind === 'mod') info.main = { path, version };
    else if (kind === 'dep') info.deps.push({ path, version });
    else if (kind === '=>' && info.deps.length) info.deps[info.deps.length - 1] = { path, version };
  }
  return info;
}

/**
 * A Go binary's packages: its modules (OSV ecosystem Go, versions without the `v`), and the standard
 * library as `stdlib` at the Go version it was built with (`go1.21.3` → `1.21.3`, what OSV's Go records
 * use). The main module at `(devel)` has no version to match and is left out.
 */
export function goPackages(info: GoBuildInfo, where: Pick<FoundPackage, 'path' | 'layer'>): FoundPackage[] {
  const out: FoundPackage[] = [];
  const go = /^go(\d+(?:\.\d+)*)/.exec(info.goVersion)?.[1];
  if (go) out.push({ kind: 'Go', name: 'stdlib', version: go, ...where });
  const mods = info.main && info.main.version !== '(devel)' ? [info.main, ...info.deps] : info.deps;
  for (const m of mods)
    if (m.path && m.version) out.push({ kind: 'Go', name: m.path, version: m.version, ...where });
  return out;
}
