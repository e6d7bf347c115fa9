import type { AdvisoryRow, AffectedRow } from '../../../db/repos/vuln-db.js';
import type { CvssScores, Severity } from './severity.js';

/** One `affected[]` entry of an imported record, as stored for matching (PyPI names normalised). */
export type AffectedEntry = Omit<AffectedRow, 'severity' | 'cvss'> & { severity: Severity; cvss: CvssScores };

/** The descriptive part of an imported record. */
export type Advisory = Omit<AdvisoryRow, 'modified'>;

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
