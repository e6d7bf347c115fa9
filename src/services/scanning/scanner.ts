import type { VulnerabilityReport } from './builtin/report.js';
import type { StoredReport } from './summary.js';

/**
 * The contract between scanning's job and API (which decide what to scan, keep the reports and enforce
 * the policy) and the scanners that do the reading: the built-in offline scanner, or an external adapter
 * spoken to through Harbor's Pluggable Scanner API v1.1. Neither side knows the other's tables.
 */

/** The registration uuid of the built-in scanner: fixed, so reports and project settings can name it. */
export const BUILTIN_SCANNER_UUID = '00000000-0000-4000-8000-00000000be47';

export type ScanType = 'vulnerability' | 'sbom';

/** One manifest to scan (an image; the caller scans an index child by child). */
export interface ScanTarget {
  projectId: number;
  /** Full repository name, `project/repo`. */
  repository: string;
  digest: string;
  mediaType: string;
  tag: string | null;
  /**
   * The scan reports this scan fills: a scanner that writes its report itself (the built-in one, in its
   * scanning process) fills and ends them (ScanReportRepo.fill) and answers `ended`.
   */
  reportIds?: number[];
  /** The reports' log so far (timestamped lines), for a scanner that ends them itself. */
  log?: readonly string[];
}

/**
 * What a finished scan gives: Harbor's vulnerability report (as a document, already in its stored form, or
 * already written into the target's reports), or an SBOM document.
 */
export type ScanResult =
  | { type: 'vulnerability'; report: VulnerabilityReport }
  | { type: 'vulnerability'; stored: StoredReport }
  /** The scanner wrote the report into the target's reports and ended these of them Success. */
  | { type: 'vulnerability'; ended: number[] }
  | { type: 'sbom'; mediaType: string; document: Uint8Array };

/** Harbor's `ScannerAdapterMetadata` (GET /api/v1/metadata of the Pluggable Scanner API). */
export interface ScannerMetadata {
  scanner: { name: string; vendor: string; version: string };
  capabilities: { type?: ScanType; consumes_mime_types: string[]; produces_mime_types: string[] }[];
  properties: Record<string, string>;
}

export interface Scanner {
  metadata(signal?: AbortSignal): Promise<ScannerMetadata>;
  /**
   * What it reads and produces (`metadata`'s capabilities), when that is known without `metadata`'s work:
   * the built-in scanner's never change, while its metadata reads the vulnerability database's import
   * (an overview polled while a scan runs needs the capabilities only).
   */
  capabilities?(): ScannerMetadata['capabilities'];
  /**
   * Scans `target` and resolves with the result; rejects with an Error whose message says why (it becomes
   * the report's log and Harbor's `Error` status). `log` receives progress lines for the scan's log;
   * `signal` aborts a scan that is stopped.
   */
  scan(
    target: ScanTarget,
    type: ScanType,
    log: (line: string) => void,
    signal: AbortSignal,
  ): Promise<ScanResult>;
}

/** The scanner a project uses: its own registration when set, else the system default; none when disabled. */
export interface ScannerResolver {
  forProject(projectId: number): Promise<{ uuid: string; name: string; scanner: Scanner } | undefined>;
}
