import type { MetaStore } from '../../db/store.js';
import { doublestar } from '../policies/doublestar.js';
import type { VulnerabilityReport } from '../scanning/builtin/report.js';

/** Harbor's CSV header (pkg/scan/export Data's `csv` tags), in its order. */
export const EXPORT_COLUMNS = [
  'Repository',
  'Artifact Digest',
  'CVE',
  'Package',
  'Current Version',
  'Fixed in version',
  'Severity',
  'CWE Ids',
  'Additional Data',
  'Scanner',
];

export interface ExportArtifact {
  digest: string;
  repository: string;
}

interface Filters {
  projectId: number;
  labels: number[];
  repositories: string;
  tags: string;
}

/**
 * The artifacts an export covers, as Harbor's filter processor picks them: the project's repositories
 * whose name (without the project) matches the `repositories` pattern, their artifacts and an index's
 * children (which take the index's tags and labels), those with a tag matching `tags`, then those with
 * any of `labels`.
 */
export async function selectArtifacts(
  store: Pick<MetaStore, 'securityHub' | 'artifactCatalog' | 'labels'>,
  f: Filters,
): Promise<ExportArtifact[]> {
  const repoMatch = doublestar(f.repositories);
  const all = (await store.securityHub.projectArtifacts(f.projectId)).filter((a) =>
    repoMatch(a.repository.slice(a.repository.indexOf('/') + 1)),
  );
  const ids = all.map((a) => a.id);
  const [tags, labels, refs] = await Promise.all([
    store.artifactCatalog.tagsOf(ids),
    store.labels.ofArtifacts(ids),
    store.artifactCatalog.referencesOf(ids),
  ]);
  const tagMatch = doublestar(f.tags);
  const out: ExportArtifact[] = [];
  for (const a of all) {
    const names = (tags.get(a.id) ?? []).map((t) => t.name);
    if (f.tags !== '' && !names.some(tagMatch)) continue;
    const labelIds = (labels.get(a.id) ?? []).map((l) => l.id);
    if (f.labels.length > 0 && !labelIds.some((l) => f.labels.includes(l))) continue;
    for (const child of refs.get(a.id) ?? [])
      out.push({ digest: child.child_digest, repository: a.repository });
    out.push({ digest: a.digest, repository: a.repository });
  }
  return out;
}

/** One CSV row per vulnerability of each artifact's report whose id matches the `cveIds` pattern. */
export function* exportRows(
  artifacts: ExportArtifact[],
  reports: Map<string, VulnerabilityReport>,
  cveIds: string,
): Generator<string[]> {
  const cveMatch = doublestar(cveIds);
  const seen = new Set<string>();
  for (const a of artifacts) {
    const key = `${a.repository}@${a.digest}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const report = reports.get(a.digest);
    if (!report) continue;
    for (const v of report.vulnerabilities) {
      if (!cveMatch(v.id)) continue;
      yield [
        a.repository,
        a.digest,
        v.id,
        v.package,
        v.version,
        v.fix_version,
        v.severity,
        v.cwe_ids.join(','),
        JSON.stringify(v.vendor_attributes ?? {}),
        report.scanner?.name ?? '',
      ];
    }
  }
}

/** Values a spreadsheet would read as a formula start with one of these; Harbor prefixes a quote. */
const formulaStart = /^[=+\-@\t\r\n]/;

/** One RFC 4180 line: fields quoted when they hold a comma, quote or line break. */
export function csvLine(fields: string[]): string {
  return `${fields
    .map((raw) => {
      const v = formulaStart.test(raw) ? `'${raw}` : raw;
      return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
    })
    .join(',')}\n`;
}
