import { queryOptions } from '@tanstack/react-query';
import { api } from './client';
import { artifactKeys, artifactPath, type ArtifactRef } from './artifacts';
import type { Artifact } from './types';

/** The report type Berth's scanners produce (Harbor's `scan_overview` and report additions are keyed by it). */
export const VULN_REPORT = 'application/vnd.security.vulnerability.report; version=1.1';

export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'None', 'Unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Harbor's NativeReportSummary: one artifact's scan as artifact lists show it. */
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

/** One finding of a vulnerability report. */
export interface VulnerabilityItem {
  id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: Severity;
  description?: string;
  links?: string[];
  preferred_cvss?: { score_v3?: number | null; score_v2?: number | null };
}

export interface VulnerabilityReport {
  generated_at?: string;
  scanner?: { name: string; vendor: string; version: string };
  severity?: string;
  vulnerabilities?: VulnerabilityItem[];
}

/** The artifact's overview of the vulnerability report, if it was ever scanned. */
export function overviewOf(a: Pick<Artifact, 'scan_overview'>): ScanOverview | undefined {
  return a.scan_overview?.[VULN_REPORT];
}

/** A scan that has not ended: the list keeps asking until it has. */
export function scanInProgress(o: ScanOverview | undefined): boolean {
  return !!o && ['Pending', 'Running', 'Scheduled'].includes(o.scan_status);
}

/** Harbor's report addition: the report of each type the artifact has (for this scanner type, one). */
export function vulnerabilityReportQuery(ref: ArtifactRef) {
  return queryOptions({
    queryKey: artifactKeys.addition(ref, 'vulnerabilities'),
    queryFn: async () => {
      const all = await api<Record<string, VulnerabilityReport>>(
        `${artifactPath(ref)}/additions/vulnerabilities`,
      );
      return all[VULN_REPORT] ?? Object.values(all)[0] ?? null;
    },
  });
}

export function scanArtifact(ref: ArtifactRef): Promise<unknown> {
  return api(`${artifactPath(ref)}/scan`, { method: 'POST' });
}

export function stopScanArtifact(ref: ArtifactRef): Promise<unknown> {
  return api(`${artifactPath(ref)}/scan/stop`, { method: 'POST', body: { scan_type: 'vulnerability' } });
}

/** Harbor's scan-all Stats (`/scans/all/metrics`). */
export interface ScanAllMetrics {
  total?: number;
  completed?: number;
  metrics?: Record<string, number>;
  ongoing?: boolean;
  trigger?: string;
}

export interface ScanAllSchedule {
  schedule?: { type: string; cron?: string; next_scheduled_time?: string };
}

/** Query keys of scan all: the latest run's metrics and the schedule. */
export const scanAllKeys = {
  all: ['scan-all'] as const,
  metrics: () => [...scanAllKeys.all, 'metrics'] as const,
  schedule: () => [...scanAllKeys.all, 'schedule'] as const,
};

export function scanAllMetricsQuery() {
  return queryOptions({
    queryKey: scanAllKeys.metrics(),
    queryFn: () => api<ScanAllMetrics>('/scans/all/metrics'),
  });
}

export function scanAllScheduleQuery() {
  return queryOptions({
    queryKey: scanAllKeys.schedule(),
    queryFn: () => api<ScanAllSchedule>('/system/scanAll/schedule'),
  });
}

/** Scans every artifact now. */
export function startScanAll(): Promise<unknown> {
  return api('/system/scanAll/schedule', { method: 'POST', body: { schedule: { type: 'Manual' } } });
}

export function stopScanAll(): Promise<unknown> {
  return api('/system/scanAll/stop', { method: 'POST' });
}

/** Sets the schedule (type None removes it); `cron` is the preset's or the custom one. */
export function saveScanAllSchedule(type: string, cron: string): Promise<unknown> {
  return api('/system/scanAll/schedule', {
    method: 'PUT',
    body: { schedule: { type, ...(type === 'None' ? {} : { cron }) } },
  });
}
