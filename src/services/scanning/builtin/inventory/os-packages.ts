import { parseStanzas, type FoundPackage } from './package.js';

type Where = Pick<FoundPackage, 'path' | 'layer'>;

/**
 * dpkg's database: `/var/lib/dpkg/status` (installed stanzas only: `Status: install ok installed`) and
 * distroless images' `/var/lib/dpkg/status.d/*` (one stanza per file, no Status field). OSV's Debian
 * records name source packages, so `Source: name` or `Source: name (version)` is kept as the match key
 * (the binary's own name and version when absent).
 */
export function parseDpkgStatus(text: string, where: Where): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const f of parseStanzas(text)) {
    const name = f.get('package');
    const version = f.get('version');
    if (!name || !version) continue;
    const status = f.get('status');
    if (status !== undefined && !/\binstalled$/.test(status.trim())) continue;
    const src = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(f.get('source') ?? '');
    out.push({
      kind: 'os',
      name,
      version,
      source: { name: src?.[1] ?? name, version: src?.[2] ?? version },
      ...where,
    });
  }
  return out;
}

/**
 * apk's database `/lib/apk/db/installed`: stanzas of one-letter fields (`P:` name, `V:` version, `o:`
 * origin, the source package that OSV's Alpine records name).
 */
export function parseApkInstalled(text: string, where: Where): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const line of block.split('\n'))
      if (line[1] === ':' && !f.has(line[0]!)) f.set(line[0]!, line.slice(2).trim());
    const name = f.get('P');
    const version = f.get('V');
    if (!name || !version) continue;
    out.push({ kind: 'os', name, version, source: { name: f.get('o') ?? name, version }, ...where });
  }
  return out;
}
