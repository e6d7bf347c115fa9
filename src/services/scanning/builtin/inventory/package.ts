/** Where a package's vulnerabilities are looked up: the image's OS, or a language ecosystem of OSV. */
export type PackageKind = 'os' | 'npm' | 'PyPI' | 'Go' | 'Maven';

/** A package found in an image. */
export interface FoundPackage {
  kind: PackageKind;
  /** The name and version the report shows (a dpkg binary package, an npm package, ...). */
  name: string;
  version: string;
  /** The name and version OSV records use when they differ (dpkg `Source:`, apk origin, rpm source). */
  source?: { name: string; version: string };
  /** The file it was read from, and the digest of the layer that holds that file. */
  path: string;
  layer: string;
}

/** What `/etc/os-release` says, and the OSV ecosystem of the OS packages it implies. */
export interface OsInfo {
  id: string;
  versionId: string;
  prettyName: string;
  /** `Debian:12`, `Alpine:v3.19`, ...; undefined for an OS whose OSV ecosystem we don't know. */
  ecosystem?: string;
}

/** Splits RFC 822-style stanzas (dpkg status, METADATA, PKG-INFO) into field maps; continuation lines join. */
export function parseStanzas(text: string): Array<Map<string, string>> {
  const out: Array<Map<string, string>> = [];
  let fields = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (fields.size) out.push(fields);
      fields = new Map();
      last = undefined;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(last)) fields.set(last, line.slice(colon + 1).trim());
  }
  if (fields.size) out.push(fields);
  return out;
}

/** A file the scanner would read but that is past its bound; it is skipped and named in the notes. */
export class TooLarge extends Error {
  constructor(path: string, size: number) {
    super(`/${path} (${size} bytes) is larger than the scanner reads; skipped`);
  }
}
