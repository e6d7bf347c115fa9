import type { OsvRecord } from './osv.js';
import { rateSeverity } from './severity-rating.js';
import type { AffectedEntry, Advisory } from './vuln-db.js';

export interface NormalizedRecord {
  advisory: Advisory;
  entries: AffectedEntry[];
  modified: string;
}

export class InvalidOsvRecord extends Error {}

/**
 * One OSV record as stored: the advisory text, and one entry per `affected[]` package with its ranges,
 * listed versions and severity (rated once here, not per scan). A withdrawn record yields undefined.
 * PyPI names are normalised (PEP 503) as the scanner normalises installed ones.
 */
export function normalizeRecord(value: unknown): NormalizedRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidOsvRecord('not a JSON object');
  const r = value as OsvRecord & { upstream?: unknown };
  if (typeof r.id !== 'string' || !r.id) throw new InvalidOsvRecord('no "id"');
  if (r.affected !== undefined && !Array.isArray(r.affected))
    throw new InvalidOsvRecord('"affected" is not an array');
  if (r.withdrawn) return undefined;
  const strings = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  const cwe = strings(r.database_specific?.['cwe_ids']);
  const advisory: Advisory = {
    id: r.id,
    aliases: [...new Set([...strings(r.aliases), ...strings(r.upstream)])],
    summary: typeof r.summary === 'string' ? r.summary : '',
    details: typeof r.details === 'string' ? r.details : '',
    links: Array.isArray(r.references)
      ? r.references.map((x) => x?.url).filter((u): u is string => typeof u === 'string')
      : [],
    cweIds: cwe,
  };
  const entries: AffectedEntry[] = [];
  for (const a of r.affected ?? []) {
    const pkg = a?.package;
    if (!pkg || typeof pkg.ecosystem !== 'string' || typeof pkg.name !== 'string') continue;
    if (a.ranges !== undefined && !Array.isArray(a.ranges))
      throw new InvalidOsvRecord(`"ranges" of ${pkg.name} is not an array`);
    const ranges = (a.ranges ?? [])
      .filter((x) => x && typeof x.type === 'string' && x.type !== 'GIT' && Array.isArray(x.events))
      .map((x) => ({ type: x.type, events: x.events.map((e) => ({ ...e }) as Record<string, string>) }));
    const versions = strings(a.versions);
    if (!ranges.length && !versions.length) continue;
    const { severity, cvss } = rateSeverity(r, a);
    entries.push({
      vulnId: r.id,
      ecosystem: pkg.ecosystem,
      name: packageKey(pkg.ecosystem, pkg.name),
      ranges,
      versions,
      severity,
      cvss,
    });
  }
  return { advisory, entries, modified: typeof r.modified === 'string' ? r.modified : '' };
}

/** How a package name is keyed for matching: PyPI's normalised form, everything else as written. */
export function packageKey(ecosystem: string, name: string): string {
  return ecosystem === 'PyPI' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}
