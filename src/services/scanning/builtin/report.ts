import type { Severity } from './severity.js';

export const REPORT_MIME_TYPE = 'application/vnd.security.vulnerability.report; version=1.1';

/**
 * Harbor's vulnerability report (`pkg/scan/vuln.Report`), the body of the Pluggable Scanner API v1.1's
 * `application/vnd.security.vulnerability.report; version=1.1` and of `.../additions/vulnerabilities`.
 */
export interface VulnerabilityReport {
  generated_at: string;
  artifact?: { repository: string; digest: string; mime_type: string };
  scanner: { name: string; vendor: string; version: string };
  /** The highest severity among the vulnerabilities; None when there are none. */
  severity: Severity;
  vulnerabilities: VulnerabilityItem[];
}

export interface VulnerabilityItem {
  /** A CVE id where the advisory names one (so CVE allowlists apply), else the OSV record's id. */
  id: string;
  package: string;
  version: string;
  /** The lowest fixed version above the installed one; '' when no fix is known. */
  fix_version: string;
  severity: Severity;
  description: string;
  links: string[];
  /** The layer that holds the file the package was read from. */
  layer?: { digest: string };
  preferred_cvss?: { score_v3?: number; score_v2?: number; vector_v3?: string; vector_v2?: string };
  cwe_ids: string[];
  /** `CVSS.<source>` with `V2Score`/`V2Vector`/`V3Score`/`V3Vector`/`V40Score`/`V40Vector`, as Trivy gives it. */
  vendor_attributes: Record<string, unknown>;
}
