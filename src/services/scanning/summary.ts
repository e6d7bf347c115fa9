import type { NewScanVulnerability, SeverityCounts } from '../../db/repos/scan-reports.js';
import type { ScanReportHead } from '../../db/tables.js';
import type { VulnerabilityItem, VulnerabilityReport } from './builtin/report.js';
import { REPORT_MIME_TYPE } from './builtin/report.js';
import { maxSeverity, severityCode, type Severity } from './builtin/severity.js';
import { compareCodeUnits } from '../../lib/code-unit-order.js';

/** Harbor's `NativeReportSummary`: one report MIME type's entry of an artifact's `scan_overview`. */
export interface ScanOverview {
  report_id: string;
  scan_status: string;
  severity: string;
  duration: number;
  summary: { total: number; fixable: number; summary: Partial<Record<Severity, number>> } | null;
  start_time: string;
  end_time: string;
  complete_percent: number;
  scanner?: { name: string; vendor: string; version: string };
}

/** Harbor's zero time, for a report that has not ended. */
const zeroTime = '0001-01-01T00:00:00Z';

export function countsOf(report: VulnerabilityReport): SeverityCounts {
  const c: SeverityCounts = {
    critical: 0,
    high: 0,
    medium: 0,
    low: 0,
    none: 0,
    unknown: 0,
    fixable: 0,
    total: 0,
  };
  for (const v of report.vulnerabilities) {
    c.total++;
    if (v.fix_version) c.fixable++;
    const key = v.severity.toLowerCase() as keyof SeverityCounts;
    if (key in c) c[key]++;
  }
  return c;
}

/**
 * A vulnerability report as the scan job stores it: its document (JSON text), counts and rows. The built-in
 * scanner builds it where the scan ran (its worker thread), so the thread that serves requests receives
 * one string and flat rows instead of serializing thousands of findings itself.
 */
export interface StoredReport {
  severity: Severity;
  counts: SeverityCounts;
  /** JSON `{name, vendor, version}`. */
  scanner: string;
  document: string;
  rows: NewScanVulnerability[];
}

export function storedReport(report: VulnerabilityReport): StoredReport {
  return {
    severity: report.severity,
    counts: countsOf(report),
    scanner: JSON.stringify(report.scanner),
    document: JSON.stringify(report),
    rows: vulnerabilityRows(report),
  };
}

export function vulnerabilityRows(report: VulnerabilityReport): NewScanVulnerability[] {
  return report.vulnerabilities.map((v) => ({
    cve_id: v.id,
    package: v.package,
    version: v.version,
    fix_version: v.fix_version,
    severity: v.severity,
    severity_code: severityCode(v.severity),
    cvss_score_v3: v.preferred_cvss?.score_v3 ?? null,
    cvss_score_v2: v.preferred_cvss?.score_v2 ?? null,
    description: v.description,
    links: JSON.stringify(v.links),
  }));
}

/** Items are the same vulnerability when id, package and version agree (Harbor's item key). */
const itemKey = (v: VulnerabilityItem) => `${v.id}\u0000${v.package}\u0000${v.version}`;

/** Harbor's MergeScanStatus: Running wins, then Stopped, then Success (one scanned child is enough). */
export function mergeStatus(a: string, b: string): string {
  for (const s of ['Running', 'Stopped', 'Success']) if (a === s || b === s) return s;
  const order = ['Pending', 'Scheduled', 'Error'];
  return order.indexOf(a) >= order.indexOf(b) ? a : b;
}

function secondsBetween(start: string, end: string | null): number {
  if (!end) return 0;
  return Math.max(0, Math.floor(Date.parse(end) / 1000) - Math.floor(Date.parse(start) / 1000));
}

/**
 * The overview of an artifact from its reports of one MIME type: one report for an image, one per
 * scanned child for an index (merged as Harbor merges them: report ids joined with `|` and base64
 * encoded, earliest start and latest end, vulnerabilities counted once across children, percent of
 * children complete). `parsed` gives a succeeded report's document.
 */
/** Whether `overviewOf` reads these reports' documents (one image's report has its counts beside it). */
export function overviewNeedsDocuments(reports: ScanReportHead[]): boolean {
  return !(reports.length === 1 && reports[0]!.mime_type === REPORT_MIME_TYPE);
}

export function overviewOf(
  reports: ScanReportHead[],
  parsed: (r: ScanReportHead) => VulnerabilityReport | undefined,
) {
  if (reports.length === 0) return undefined;
  const sorted = [...reports].sort((a, b) => compareCodeUnits(a.start_time, b.start_time));
  let status = sorted[0]!.status;
  for (const r of sorted.slice(1)) status = mergeStatus(status, r.status);
  const ids = sorted.map((r) => r.uuid);
  const start = sorted[0]!.start_time;
  const ends = sorted.map((r) => r.end_time).filter((e): e is string => !!e);
  const end = ends.length ? ends.reduce((a, b) => (a > b ? a : b)) : null;
  const complete = sorted.filter((r) => r.status === 'Success').length;
  const newest = sorted.at(-1)!;
  const overview: ScanOverview = {
    report_id: ids.length === 1 ? ids[0]! : Buffer.from(ids.join('|')).toString('base64'),
    scan_status: status,
    severity: '',
    duration: secondsBetween(start, end),
    summary: null,
    start_time: start,
    end_time: end ?? zeroTime,
    complete_percent: Math.floor((complete * 100) / sorted.length),
  };
  const scanner =
    sorted
      .map((r) => r.scanner)
      .filter(Boolean)
      .at(-1) ?? newest.scanner;
  if (scanner) overview.scanner = JSON.parse(scanner) as ScanOverview['scanner'] & object;
  if (status === 'Running' || complete === 0) return overview;
  if (sorted.length === 1 && newest.mime_type === REPORT_MIME_TYPE) {
    // One report (an image): its counts were stored beside it, so the document (megabytes for an image
    // with thousands of findings, read on every listing with_scan_overview) is not parsed.
    const stored = countsOfRow(newest);
    overview.severity = stored.severity;
    overview.summary = { total: newest.total_cnt, fixable: newest.fixable_cnt, summary: stored.bySeverity };
    return overview;
  }
  const seen = new Map<string, VulnerabilityItem>();
  for (const r of sorted) {
    if (r.status !== 'Success') continue;
    for (const v of parsed(r)?.vulnerabilities ?? []) if (!seen.has(itemKey(v))) seen.set(itemKey(v), v);
  }
  let severity: Severity = 'None';
  const bySeverity: Partial<Record<Severity, number>> = {};
  let fixable = 0;
  for (const v of seen.values()) {
    bySeverity[v.severity] = (bySeverity[v.severity] ?? 0) + 1;
    if (severityCode(v.severity) > severityCode(severity)) severity = v.severity;
    if (v.fix_version) fixable++;
  }
  overview.severity = severity;
  overview.summary = { total: seen.size, fixable, summary: bySeverity };
  return overview;
}

/** A report row's stored counts by severity (the non-zero ones) and the highest severity among them. */
function countsOfRow(r: ScanReportHead): {
  severity: Severity;
  bySeverity: Partial<Record<Severity, number>>;
} {
  const counts: Array<[Severity, number]> = [
    ['Critical', r.critical_cnt],
    ['High', r.high_cnt],
    ['Medium', r.medium_cnt],
    ['Low', r.low_cnt],
    ['Unknown', r.unknown_cnt],
    ['None', r.none_cnt],
  ];
  const present = counts.filter(([, n]) => n > 0);
  return {
    severity: present.reduce<Severity>((a, [s]) => maxSeverity(a, s), 'None'),
    bySeverity: Object.fromEntries(present),
  };
}

/** Harbor's report ids of an index overview: base64 of `id|id|…`, or one plain id. */
export function parseReportIds(reportId: string): string[] {
  // Strict base64 only, as Go's decoder: a plain uuid (with its dashes) is one id.
  const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(reportId);
  const decoded = base64 ? Buffer.from(reportId, 'base64').toString('utf8') : reportId;
  const ids = decoded.split('|');
  return ids.filter(Boolean);
}
