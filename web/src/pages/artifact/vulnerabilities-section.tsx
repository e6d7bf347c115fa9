import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { artifactKeys, artifactQuery } from '../../api/artifacts';
import { useAction } from '../../api/hooks';
import {
  overviewOf,
  scanArtifact,
  scanInProgress,
  SEVERITIES,
  vulnerabilityReportQuery,
  type VulnerabilityItem,
} from '../../api/scans';
import { Empty, ErrorNote, formatTime, QueryState } from '../../components/ui';
import { ScanOverviewCell, SeverityBadge } from '../shared/severity-bar';
import type { ArtifactSectionProps } from './artifact-sections';

type SortKey = 'severity' | 'id' | 'package' | 'version' | 'fix_version' | 'cvss';

const rank = (s: string) => {
  const i = (SEVERITIES as readonly string[]).indexOf(s);
  return i < 0 ? SEVERITIES.length : i;
};

const COMPARE: Record<SortKey, (a: VulnerabilityItem, b: VulnerabilityItem) => number> = {
  severity: (a, b) => rank(a.severity) - rank(b.severity),
  id: (a, b) => a.id.localeCompare(b.id),
  package: (a, b) => a.package.localeCompare(b.package),
  version: (a, b) => a.version.localeCompare(b.version, undefined, { numeric: true }),
  fix_version: (a, b) =>
    (a.fix_version || '~').localeCompare(b.fix_version || '~', undefined, { numeric: true }),
  cvss: (a, b) => (b.preferred_cvss?.score_v3 ?? -1) - (a.preferred_cvss?.score_v3 ?? -1),
};

const COLUMNS: [SortKey, string][] = [
  ['id', 'Vulnerability'],
  ['severity', 'Severity'],
  ['cvss', 'CVSS3'],
  ['package', 'Package'],
  ['version', 'Current version'],
  ['fix_version', 'Fixed in version'],
];

/** Where a finding is described: the report's first link, else NVD for a CVE id. */
function linkOf(v: VulnerabilityItem): string | undefined {
  if (v.links?.length) return v.links[0];
  return v.id.startsWith('CVE-') ? `https://nvd.nist.gov/vuln/detail/${v.id}` : undefined;
}

/**
 * The artifact's Vulnerabilities tab, as Harbor's: the scan's state and scanner, a SCAN button, and the
 * report's findings, sortable by each column (severity first by default), each CVE linked to its page.
 */
export function VulnerabilitiesSection({ ctx, artifactRef, artifact }: ArtifactSectionProps) {
  // The page's artifact query, refreshed here while a scan runs.
  const live = useQuery({
    ...artifactQuery(artifactRef),
    refetchInterval: (q) => (scanInProgress(q.state.data && overviewOf(q.state.data)) ? 1500 : false),
  });
  const overview = overviewOf(live.data ?? artifact);
  const done = overview?.scan_status === 'Success';
  const report = useQuery({ ...vulnerabilityReportQuery(artifactRef), enabled: done });
  const scan = useAction(
    () => scanArtifact(artifactRef),
    [artifactKeys.all(artifactRef.projectName, artifactRef.repo)],
  );
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'severity', desc: false });
  const rows = useMemo(() => {
    const items = [...(report.data?.vulnerabilities ?? [])];
    items.sort((a, b) => (sort.desc ? -1 : 1) * COMPARE[sort.key](a, b));
    return items;
  }, [report.data, sort]);
  return (
    <>
      <div className="toolbar">
        {ctx.can('scan', 'create') ? (
          <button
            type="button"
            className="btn"
            disabled={scan.isPending || scanInProgress(overview)}
            onClick={() => scan.mutate(undefined)}
          >
            Scan
          </button>
        ) : null}
        <ScanOverviewCell overview={overview} />
      </div>
      <ErrorNote error={scan.error} title="Scan" />
      {overview ? (
        <dl className="facts" aria-label="Scan">
          <dt>Scanner</dt>
          <dd>{overview.scanner ? `${overview.scanner.name} ${overview.scanner.version}` : '—'}</dd>
          <dt>Severity</dt>
          <dd>{done ? <SeverityBadge severity={overview.severity} /> : '—'}</dd>
          <dt>Duration</dt>
          <dd>{done ? `${overview.duration} s` : '—'}</dd>
          <dt>Scan completed</dt>
          <dd>{formatTime(overview.end_time)}</dd>
        </dl>
      ) : (
        <Empty>This artifact has not been scanned.</Empty>
      )}
      {done ? (
        <QueryState
          query={report}
          empty={(r) => !r?.vulnerabilities?.length}
          emptyText="No vulnerability was found."
        >
          {() => (
            <div className="table-wrap">
              <table aria-label="Vulnerabilities">
                <thead>
                  <tr>
                    {COLUMNS.map(([key, label]) => (
                      <th
                        key={key}
                        aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
                      >
                        <button
                          type="button"
                          className="btn-link"
                          onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : false }))}
                        >
                          {label}
                          {sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}
                        </button>
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((v) => {
                    const href = linkOf(v);
                    return (
                      <tr key={`${v.id} ${v.package} ${v.version}`} data-cve={v.id}>
                        <td>
                          {href ? (
                            <a href={href} target="_blank" rel="noreferrer noopener">
                              {v.id}
                            </a>
                          ) : (
                            v.id
                          )}
                        </td>
                        <td>
                          <SeverityBadge severity={v.severity} />
                        </td>
                        <td className="num">{v.preferred_cvss?.score_v3 ?? '—'}</td>
                        <td>{v.package}</td>
                        <td>{v.version}</td>
                        <td>{v.fix_version || '—'}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </QueryState>
      ) : null}
    </>
  );
}
