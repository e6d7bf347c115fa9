/** Harbor's severity levels (pkg/scan/vuln), lowest first; the index is Harbor's severity code. */
export const SEVERITIES = ['None', 'Unknown', 'Low', 'Medium', 'High', 'Critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityCode(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** The higher of two severities. */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityCode(a) >= severityCode(b) ? a : b;
}

/** CVSS vectors and scores found on a record, per version. */
export interface CvssScores {
  v2?: { vector: string; score: number };
  v3?: { vector: string; score: number };
  v4?: { vector: string; score: number };
}

export function fromScore(score: number): Severity {
  if (score >= 9) return 'Critical';
  if (score >= 7) return 'High';
  if (score >= 4) return 'Medium';
  if (score > 0) return 'Low';
  return 'None';
}
