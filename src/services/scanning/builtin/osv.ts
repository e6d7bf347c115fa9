import type { VersionCompare } from './versions/index.js';

/** The parts of an OSV record (ossf.github.io/osv-schema, 1.6) the scanner reads. */
export interface OsvRecord {
  id: string;
  modified?: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  summary?: string;
  details?: string;
  severity?: Array<{ type: string; score: string }>;
  affected?: OsvAffected[];
  references?: Array<{ type?: string; url: string }>;
  database_specific?: Record<string, unknown>;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  severity?: Array<{ type: string; score: string }>;
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvRange {
  type: 'ECOSYSTEM' | 'SEMVER' | 'GIT' | string;
  events: Array<{ introduced?: string; fixed?: string; last_affected?: string; limit?: string }>;
}

export interface Affection {
  /** The lowest fixed version above the installed one, or '' when none is known. */
  fixVersion: string;
}

/**
 * Whether `version` is affected per one `affected[]` entry: listed in `versions`, or inside one of the
 * ECOSYSTEM/SEMVER ranges (GIT ranges name commits, not versions, and are skipped). A range is walked
 * as the OSV schema's evaluation says: events sorted by version, `introduced` opens, `fixed` and
 * `limit` close at the version, `last_affected` closes after it.
 */
export function affects(
  entry: Pick<OsvAffected, 'ranges' | 'versions'>,
  version: string,
  compare: VersionCompare,
): Affection | undefined {
  let hit = entry.versions?.includes(version) ?? false;
  let fixVersion = '';
  for (const range of entry.ranges ?? []) {
    if (range.type !== 'ECOSYSTEM' && range.type !== 'SEMVER') continue;
    const { affected, fixed } = inRange(range, version, compare);
    if (!affected) continue;
    hit = true;
    if (fixed && (!fixVersion || compare(fixed, fixVersion) < 0)) fixVersion = fixed;
  }
  return hit ? { fixVersion } : undefined;
}

type Event = { at: string; kind: 'introduced' | 'fixed' | 'last_affected' | 'limit' };

function inRange(
  range: OsvRange,
  version: string,
  compare: VersionCompare,
): { affected: boolean; fixed?: string } {
  const events: Event[] = [];
  for (const e of range.events) {
    if (e.introduced !== undefined) events.push({ at: e.introduced, kind: 'introduced' });
    if (e.fixed !== undefined) events.push({ at: e.fixed, kind: 'fixed' });
    if (e.last_affected !== undefined) events.push({ at: e.last_affected, kind: 'last_affected' });
    if (e.limit !== undefined) events.push({ at: e.limit, kind: 'limit' });
  }
  // "0" is below every version in every ecosystem; compare() does not know that.
  const cmp = (a: string, b: string) => (a === b ? 0 : a === '0' ? -1 : b === '0' ? 1 : compare(a, b));
  events.sort((a, b) => cmp(a.at, b.at));
  let affected = false;
  let fixed: string | undefined;
  for (const e of events) {
    const c = cmp(version, e.at);
    if (e.kind === 'introduced' && c >= 0) affected = true;
    else if ((e.kind === 'fixed' || e.kind === 'limit') && c >= 0) affected = false;
    else if (e.kind === 'last_affected' && c > 0) affected = false;
    else if (e.kind === 'fixed' && c < 0 && affected && fixed === undefined) fixed = e.at;
  }
  return { affected, fixed: affected ? fixed : undefined };
}
