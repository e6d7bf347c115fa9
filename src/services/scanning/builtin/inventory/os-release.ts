import type { OsInfo } from './package.js';

/**
 * Parses os-release(5) and names the OSV ecosystem of its OS packages: Debian 12 → `Debian:12`,
 * Alpine 3.19.1 → `Alpine:v3.19`, Ubuntu 22.04 → `Ubuntu:22.04`, Rocky/Alma 9.3 → `Rocky Linux:9`/
 * `AlmaLinux:9`, Wolfi/Chainguard → `Wolfi`/`Chainguard`.
 */
export function parseOsRelease(text: string): OsInfo {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) fields.set(m[1]!, m[2]!.trim().replace(/^(["'])(.*)\1$/, '$2'));
  }
  const id = (fields.get('ID') ?? '').toLowerCase();
  const versionId = fields.get('VERSION_ID') ?? '';
  return {
    id,
    versionId,
    prettyName: fields.get('PRETTY_NAME') ?? id,
    ecosystem: ecosystemOf(id, versionId),
  };
}

function ecosystemOf(id: string, versionId: string): string | undefined {
  const major = versionId.split('.')[0];
  switch (id) {
    case 'debian':
      return major ? `Debian:${major}` : undefined;
    case 'alpine': {
      const m = /^(\d+)\.(\d+)/.exec(versionId);
      return m ? `Alpine:v${m[1]}.${m[2]}` : undefined;
    }
    case 'ubuntu':
      return versionId ? `Ubuntu:${versionId}` : undefined;
    case 'rocky':
      return major ? `Rocky Linux:${major}` : undefined;
    case 'almalinux':
      return major ? `AlmaLinux:${major}` : undefined;
    case 'wolfi':
      return 'Wolfi';
    case 'chainguard':
      return 'Chainguard';
    default:
      return undefined;
  }
}
