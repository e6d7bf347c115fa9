import { queryOptions } from '@tanstack/react-query';
import { api, q } from './client';
import { listSource } from './hooks';

/** Harbor's SecuritySummary (`/security/summary`). */
export interface SecuritySummary {
  critical_cnt: number;
  high_cnt: number;
  medium_cnt: number;
  low_cnt: number;
  none_cnt: number;
  unknown_cnt: number;
  total_vuls: number;
  scanned_cnt: number;
  total_artifact: number;
  fixable_cnt: number;
  dangerous_cves?: {
    cve_id: string;
    severity: string;
    cvss_score_v3: number;
    package: string;
    version: string;
    desc: string;
  }[];
  dangerous_artifacts?: {
    project_id: number;
    repository_name: string;
    digest: string;
    critical_cnt: number;
    high_cnt: number;
    medium_cnt: number;
  }[];
}

/** One row of the security hub's vulnerability list. */
export interface HubVulnerability {
  project_id: number;
  repository_name: string;
  digest: string;
  tags?: string[];
  cve_id: string;
  severity: string;
  cvss_v3_score: number;
  package: string;
  version: string;
  fixed_version: string;
  desc: string;
  links: string[];
}

/** Harbor's filters of the vulnerability list; empty ones are left out. */
export interface HubFilters {
  cve_id?: string;
  severity?: string;
  cvss_from?: string;
  cvss_to?: string;
  project_id?: string;
  repository_name?: string;
  package?: string;
  tag?: string;
}

/** Harbor's `CVEAllowlist`: the system's (project 0) or a project's own. */
export interface CveAllowlist {
  id?: number;
  project_id?: number;
  expires_at?: number | null;
  items: { cve_id: string }[];
}

/** Query keys of the security hub and the system CVE allowlist. */
export const securityKeys = {
  all: ['security'] as const,
  summary: () => [...securityKeys.all, 'summary'] as const,
  vulnerabilities: (filters: HubFilters) => [...securityKeys.all, 'vul', filters] as const,
  systemAllowlist: () => [...securityKeys.all, 'system-allowlist'] as const,
};

export function securitySummaryQuery() {
  return queryOptions({
    queryKey: securityKeys.summary(),
    queryFn: () =>
      api<SecuritySummary>('/security/summary', {
        query: { with_dangerous_cve: true, with_dangerous_artifact: true },
      }),
  });
}

/** `q` of the vulnerability list: exact keys, and the CVSS range as Harbor's `[from~to]`. */
function hubQ(f: HubFilters): string | undefined {
  const { cvss_from, cvss_to, ...exact } = f;
  const range =
    cvss_from || cvss_to ? `cvss_score_v3=[${Number(cvss_from || 0)}~${Number(cvss_to || 10)}]` : undefined;
  return [q(exact), range].filter(Boolean).join(',') || undefined;
}

export function hubVulnerabilityList(filters: HubFilters) {
  return listSource<HubVulnerability>(securityKeys.vulnerabilities(filters), '/security/vul', {
    with_tag: true,
    tune_count: true,
    q: hubQ(filters),
  });
}

export function systemAllowlistQuery() {
  return queryOptions({
    queryKey: securityKeys.systemAllowlist(),
    queryFn: () => api<CveAllowlist>('/system/CVEAllowlist'),
  });
}

export function saveSystemAllowlist(list: CveAllowlist): Promise<unknown> {
  return api('/system/CVEAllowlist', { method: 'PUT', body: list });
}
