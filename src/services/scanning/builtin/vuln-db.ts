import type { Severity, CvssScores } from './severity.js';

/** One `affected[]` entry of an imported record, as stored for matching. */
export interface AffectedEntry {
  vulnId: string;
  ecosystem: string;
  /** The package name as OSV names it (PyPI names normalised). */
  name: string;
  ranges: Array<{ type: string; events: Array<Record<string, string>> }>;
  versions: string[];
  severity: Severity;
  cvss: CvssScores;
}

/** The descriptive part of an imported record. */
export interface Advisory {
  id: string;
  aliases: string[];
  summary: string;
  details: string;
  links: string[];
  cweIds: string[];
}

/** Facts about the imported database, for `GET /scanners/{id}/metadata`. */
export interface VulnDbInfo {
  /** A digest of the imported records' ids and modification times: equal imports, equal versions. */
  version: string;
  importedAt: string;
  source: string;
  records: number;
}

/** What the scanner reads of the vulnerability database (the metadata database's `vuln_*` tables). */
export interface VulnDbReader {
  /** The entries naming any of these packages in one ecosystem, from the active import. */
  affected(ecosystem: string, names: string[]): Promise<AffectedEntry[]>;
  advisories(ids: string[]): Promise<Advisory[]>;
  info(): Promise<VulnDbInfo | undefined>;
}
