import type { ScanOverview, Severity } from '../../api/scans';

/** Harbor's severity colours, most severe first. */
export const SEVERITY_COLORS: Record<Severity, string> = {
  Critical: '#7f1d1d',
  High: '#b3261e',
  Medium: '#d97706',
  Low: '#ca8a04',
  None: '#2f9e6b',
  Unknown: '#8a94a3',
};

const ORDER: Severity[] = ['Critical', 'High', 'Medium', 'Low', 'Unknown', 'None'];

/** A severity as a coloured badge. */
export function SeverityBadge({ severity }: { severity: string }) {
  const color = SEVERITY_COLORS[severity as Severity] ?? SEVERITY_COLORS.Unknown;
  return (
    <span className="badge severity" style={{ background: color, color: '#fff' }}>
      {severity}
    </span>
  );
}

const STATUS_TEXT: Record<string, string> = {
  Pending: 'Queued',
  Scheduled: 'Queued',
  Running: 'Scanning',
  Stopped: 'Scan stopped',
  Error: 'Scan failed',
};

/**
 * An artifact's scan as Harbor's Vulnerabilities column shows it: not scanned, the status while it runs,
 * or a bar of its findings by severity with the totals.
 */
export function ScanOverviewCell({ overview }: { overview: ScanOverview | undefined }) {
  if (!overview) return <span className="muted">Not Scanned</span>;
  const status = overview.scan_status;
  if (status !== 'Success')
    return (
      <span className="scan-status" data-status={status}>
        {STATUS_TEXT[status] ?? status}
        {status === 'Running' && overview.complete_percent ? ` ${overview.complete_percent}%` : ''}
      </span>
    );
  const counts = overview.summary?.summary ?? {};
  const total = overview.summary?.total ?? 0;
  if (total === 0)
    return (
      <span className="scan-status" data-status="clean">
        No vulnerability
      </span>
    );
  const parts = ORDER.filter((s) => counts[s]);
  const label = parts.map((s) => `${counts[s]} ${s}`).join(', ');
  return (
    <div className="severity-cell" data-severity={overview.severity}>
      <div className="severity-bar" role="img" aria-label={`Vulnerability severity: ${label}`}>
        {parts.map((s) => (
          <span
            key={s}
            title={`${counts[s]} ${s}`}
            style={{ flexGrow: counts[s], background: SEVERITY_COLORS[s] }}
          />
        ))}
      </div>
      <div className="muted small">
        {total} Total · {overview.summary?.fixable ?? 0} Fixable
      </div>
    </div>
  );
}
