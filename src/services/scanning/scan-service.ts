import { randomUUID } from 'node:crypto';
import { FINAL_SCAN_STATUSES } from '../../db/repos/scan-reports.js';
import type { MetaStore, Repos } from '../../db/store.js';
import type { Log } from '../../lib/logger.js';
import type { ArtifactRow, ScanReportHead } from '../../db/tables.js';
import { jobLogText, type JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { isDigestString } from '../../oci/digest.js';
import { manifestKind } from '../../oci/media-types.js';
import { resolveArtifact, type ArtifactRef } from '../artifacts/artifact-ref.js';
import type { RequestContext } from '../context.js';
import type { EventBus } from '../events.js';
import type { VulnerabilityItem, VulnerabilityReport } from './builtin/report.js';
import { maxSeverity } from './builtin/severity.js';
import type { ScanType, Scanner, ScannerMetadata, ScannerResolver } from './scanner.js';
import { overviewNeedsDocuments, overviewOf, parseReportIds, type ScanOverview } from './summary.js';

/** The metadata property in which a scanner says when its vulnerability database was last updated. */
const DB_UPDATED_AT = 'harbor.scanner-adapter/vulnerability-database-updated-at';

/** An artifact as scanning sees it: where it is and its row. */
export interface ScanSubject {
  projectId: number;
  /** Full repository name, `project/repo`. */
  repository: string;
  repositoryId: number;
  row: ArtifactRow;
}

export interface ScanOptions {
  type: ScanType;
  /** The tag the scan was asked for (the scanner is told it). */
  tag?: string | null;
  /** A scan on push or by scan all: an artifact the scanner cannot read is skipped, not an error. */
  fromEvent?: boolean;
  /** Scan all's execution, whose tasks the scan jobs become. */
  executionId?: number;
  /**
   * Scan all: a manifest whose report by this scanner succeeded after the scanner's vulnerability
   * database was last updated (its metadata's `vulnerability-database-updated-at`) is not scanned again.
   */
  skipFresh?: boolean;
  operator: string;
}

/** A scan asked for by an event or by scan all: `scan.request` jobs resolve it when they run. */
export interface ScanRequestPayload {
  /** Vulnerability when absent (requests queued before SBOMs were generated on push). */
  type?: ScanType;
  projectId: number;
  repository: string;
  digest: string;
  tag: string | null;
  operator: string;
}

/** The `scan.artifact` job's payload: one manifest's reports to fill. */
export interface ScanJobPayload {
  reportIds: number[];
  projectId: number;
  repository: string;
  digest: string;
  mediaType: string;
  tag: string | null;
  registrationUuid: string;
  type: ScanType;
  operator: string;
}

type Store = Pick<
  MetaStore,
  | 'transaction'
  | 'scanReports'
  | 'artifacts'
  | 'artifactCatalog'
  | 'jobs'
  | 'projectCatalog'
  | 'repositoryCatalog'
>;

export interface ScanServiceDeps {
  store: Store;
  clock: Clock;
  queue: Pick<JobQueue, 'enqueue' | 'stop'>;
  events: EventBus;
  scanners: ScannerResolver;
  log: Log;
}

/**
 * Scans as Harbor's scan controller runs them: a scan makes one Pending report per manifest the project's
 * scanner can read (an index is walked to its children) and report MIME type, replacing an earlier ended
 * one, and queues one `scan.artifact` job per manifest; reports are keyed by digest and scanner, so every
 * tag, repository and project holding the digest shares them.
 */
export class ScanService {
  constructor(private readonly deps: ScanServiceDeps) {}

  private async scannerOf(projectId: number) {
    const found = await this.deps.scanners.forProject(projectId);
    if (!found) throw new AppError('PRECONDITION', `no available scanner for project: ${projectId}`);
    return { ...found, metadata: await found.scanner.metadata() };
  }

  /** `scannerOf` with the capabilities only: what reads reports needs (no vulnerability database read). */
  private async capableScannerOf(projectId: number) {
    const found = await this.deps.scanners.forProject(projectId);
    if (!found) throw new AppError('PRECONDITION', `no available scanner for project: ${projectId}`);
    return { ...found, metadata: await capabilitiesOf(found.scanner) };
  }

  /** The MIME types `metadata` produces for a manifest of this media type and scan type; none = unreadable. */
  private produces(metadata: Capabilities, mediaType: string, type: ScanType): string[] {
    for (const c of metadata.capabilities) {
      if ((c.type ?? 'vulnerability') === type && c.consumes_mime_types.includes(mediaType))
        return c.produces_mime_types;
    }
    return [];
  }

  /**
   * The manifests a scan of `row` covers: itself when the scanner reads it, else (an index) its children
   * the scanner reads. Accessories (signatures, SBOMs) are never scanned.
   */
  async collect(
    repositoryId: number,
    row: ArtifactRow,
    metadata: Capabilities,
    type: ScanType,
  ): Promise<{ row: ArtifactRow; mimeTypes: string[] }[]> {
    const out: { row: ArtifactRow; mimeTypes: string[] }[] = [];
    const walk = async (a: ArtifactRow, depth: number): Promise<void> => {
      if (a.subject_digest) return;
      const mimeTypes = this.produces(metadata, a.media_type, type);
      if (mimeTypes.length > 0) {
        out.push({ row: a, mimeTypes });
        return;
      }
      if (manifestKind(a.media_type) !== 'index' || depth > 2) return;
      const refs = (await this.deps.store.artifactCatalog.referencesOf([a.id])).get(a.id) ?? [];
      for (const ref of refs) {
        const child = await this.deps.store.artifacts.findByDigest(repositoryId, ref.child_digest);
        if (child) await walk(child, depth + 1);
      }
    };
    await walk(row, 0);
    return out;
  }

  /** The artifact an API path names, as scanning sees it; NOT_FOUND for a missing repository or artifact. */
  async subject(ref: ArtifactRef): Promise<ScanSubject> {
    const { repo, row } = await resolveArtifact(this.deps.store, ref);
    return { projectId: ref.project.id, repository: repo.name, repositoryId: repo.id, row };
  }

  /** Harbor's scanArtifact: the artifact `ref` names, scanned for `opts.type` (see `scan`). */
  async scanArtifact(ctx: RequestContext, ref: ArtifactRef, opts: Omit<ScanOptions, 'tag'>) {
    const tag = isDigestString(ref.reference) ? null : ref.reference;
    return this.scan(ctx, await this.subject(ref), { ...opts, tag });
  }

  /** Harbor's stopScanArtifact (see `stop`). */
  async stopScanArtifact(ctx: RequestContext, ref: ArtifactRef, type: ScanType, operator: string) {
    await this.stop(ctx, await this.subject(ref), type, operator);
  }

  /** Harbor's getReportLog: the log of a report of the artifact `ref` names (see `log`); NOT_FOUND without one. */
  async reportLog(ref: ArtifactRef, reportId: string): Promise<string> {
    const log = await this.log(await this.subject(ref), reportId);
    if (log === undefined) throw new AppError('NOT_FOUND', `report with uuid ${reportId} does not exist`);
    return log;
  }

  /** Starts a scan (Harbor's POST .../scan); resolves once its jobs are queued, with how many were. */
  async scan(
    _ctx: RequestContext,
    subject: ScanSubject,
    opts: ScanOptions,
  ): Promise<{ queued: number; fresh: number }> {
    const { uuid, name, metadata } = await this.scannerOf(subject.projectId);
    const dbUpdated = Date.parse(metadata.properties[DB_UPDATED_AT] ?? '');
    const isFresh = (r: ScanReportHead) =>
      opts.skipFresh === true &&
      r.status === 'Success' &&
      r.end_time !== null &&
      Number.isFinite(dbUpdated) &&
      Date.parse(r.end_time) >= dbUpdated;
    const targets = await this.collect(subject.repositoryId, subject.row, metadata, opts.type);
    if (targets.length === 0) {
      if (opts.fromEvent) return { queued: 0, fresh: 0 };
      throw new AppError(
        'BAD_REQUEST',
        `the configured scanner ${name} does not support scanning artifact with mime type ${subject.row.media_type}`,
      );
    }
    const now = this.deps.clock.now().toISOString();
    return this.deps.store.transaction(async (tx) => {
      let conflict: string | undefined;
      let queued = 0;
      let fresh = 0;
      for (const t of targets) {
        const reports: ScanReportHead[] = [];
        for (const mimeType of t.mimeTypes) {
          const old = await tx.scanReports.find(t.row.digest, uuid, mimeType);
          if (old && !FINAL_SCAN_STATUSES.includes(old.status)) {
            conflict = `a previous scan process is ${old.status}`;
            continue;
          }
          if (old && isFresh(old)) {
            fresh++;
            continue;
          }
          // The old report leaves its key in one row's UPDATE; its rows go with the new report's write.
          if (old) await tx.scanReports.detach(old.id);
          reports.push(
            await tx.scanReports.create(
              { uuid: randomUUID(), digest: t.row.digest, registrationUuid: uuid, mimeType },
              now,
            ),
          );
        }
        if (reports.length === 0) continue;
        const payload: ScanJobPayload = {
          reportIds: reports.map((r) => r.id),
          projectId: subject.projectId,
          repository: subject.repository,
          digest: t.row.digest,
          mediaType: t.row.media_type,
          tag: t.row.id === subject.row.id ? (opts.tag ?? null) : null,
          registrationUuid: uuid,
          type: opts.type,
          operator: opts.operator,
        };
        const jobId = await this.deps.queue.enqueue(
          tx,
          'scan.artifact',
          payload,
          opts.executionId ? { executionId: opts.executionId } : {},
        );
        for (const r of reports) await tx.scanReports.setJob(r.id, jobId);
        queued++;
      }
      if (queued === 0 && fresh === 0 && conflict) throw new AppError('CONFLICT', conflict);
      return { queued, fresh };
    });
  }

  /**
   * Scan on push: a push into a project with `auto_scan` (or `auto_sbom_generation`) queues a
   * `scan.request` for a vulnerability scan (an SBOM) in the push's own transaction, so the scan is not
   * lost if the process stops right after. An accessory (the SBOM pushed by a scan) is never scanned.
   */
  async onPushed(
    tx: Repos,
    e: { repository: string; digest: string; tag: string | null; operator?: string | undefined },
  ) {
    const project = await tx.projectCatalog.byName(e.repository.split('/', 1)[0]!);
    if (!project) return;
    const meta = (await tx.projectCatalog.metadata([project.id])).get(project.id);
    const types: ScanType[] = [];
    if (meta?.auto_scan === 'true') types.push('vulnerability');
    if (meta?.auto_sbom_generation === 'true') types.push('sbom');
    for (const type of types) {
      const request: ScanRequestPayload = {
        type,
        projectId: project.id,
        repository: e.repository,
        digest: e.digest,
        tag: e.tag,
        operator: e.operator ?? (type === 'sbom' ? 'auto-sbom' : 'auto-scan'),
      };
      await this.deps.queue.enqueue(tx, 'scan.request', request);
    }
  }

  /** Runs a queued scan request (scan on push, scan all): an artifact gone or already scanning is skipped. */
  async request(p: ScanRequestPayload, executionId?: number): Promise<void> {
    const repo = await this.deps.store.repositoryCatalog.byName(p.repository);
    const row = repo && (await this.deps.store.artifacts.findByDigest(repo.id, p.digest));
    if (!repo || !row) return;
    const subject = { projectId: p.projectId, repository: p.repository, repositoryId: repo.id, row };
    try {
      await this.scan({ log: this.deps.log }, subject, {
        type: p.type ?? 'vulnerability',
        tag: p.tag,
        fromEvent: true,
        operator: p.operator,
        ...(executionId ? { executionId } : {}),
      });
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
    }
  }

  /**
   * Stops the artifact's unfinished scans (Harbor's POST .../scan/stop). A queued scan stops at once; a
   * running one when its job sees the stop (the job then records it).
   */
  async stop(_ctx: RequestContext, subject: ScanSubject, type: ScanType, operator: string): Promise<void> {
    const { uuid, metadata } = await this.capableScannerOf(subject.projectId);
    const targets = await this.collect(subject.repositoryId, subject.row, metadata, type);
    const reports = await this.reportsFor(targets, uuid);
    if (reports.length === 0)
      throw new AppError('BAD_REQUEST', `no scan job for artifact digest=${subject.row.digest}`);
    for (const r of reports) {
      if (FINAL_SCAN_STATUSES.includes(r.status) || r.job_id === null) continue;
      const status = await this.deps.queue.stop(r.job_id);
      if (status === 'stopped') await this.recordStopped(r, subject, type, operator);
    }
  }

  /**
   * Stops one `scan.artifact` job (scan all's stop): a queued one's reports end Stopped here, a running
   * one's when its job sees the stop.
   */
  async stopJob(jobId: number, operator: string): Promise<void> {
    if ((await this.deps.queue.stop(jobId)) !== 'stopped') return;
    const job = await this.deps.store.jobs.find(jobId);
    const p = job ? (JSON.parse(job.payload) as Partial<ScanJobPayload>) : {};
    for (const r of await this.deps.store.scanReports.ofJob(jobId)) {
      if (FINAL_SCAN_STATUSES.includes(r.status)) continue;
      await this.recordStopped(r, { repository: p.repository ?? '' }, p.type ?? 'vulnerability', operator);
    }
  }

  /** A report whose job never ran (stopped while queued) ends Stopped here. */
  private async recordStopped(
    r: ScanReportHead,
    s: Pick<ScanSubject, 'repository'>,
    type: ScanType,
    operator: string,
  ) {
    const now = this.deps.clock.now().toISOString();
    const event = { repository: s.repository, digest: r.digest, tag: null, scanType: type, operator };
    const ended = await this.deps.store.transaction(async (tx) => {
      const ok = await tx.scanReports.finish(r.id, {
        status: 'Stopped',
        log: 'stopped before it started\n',
        endTime: now,
      });
      if (ok) await this.deps.events.publish(tx, 'ScanStopped', event);
      return ok;
    });
    if (ended) this.deps.events.emit('ScanStopped', event);
  }

  /**
   * Harbor's `scan_overview` of each artifact (by id), keyed by report MIME type; artifacts of other
   * repositories' rows are fine. A fixed number of queries per page, plus one per index.
   */
  async overviews(projectId: number, rows: ArtifactRow[], type: ScanType = 'vulnerability') {
    const out = new Map<number, Record<string, ScanOverview>>();
    if (rows.length === 0) return out;
    const found = await this.deps.scanners.forProject(projectId);
    if (!found) return out;
    const metadata = await capabilitiesOf(found.scanner);
    const covers = new Map<number, string[]>();
    for (const row of rows) {
      const targets = await this.collect(row.repository_id, row, metadata, type);
      covers.set(
        row.id,
        targets.map((t) => t.row.digest),
      );
    }
    const all = [...new Set([...covers.values()].flat())];
    const mimes = new Set(
      metadata.capabilities
        .filter((c) => (c.type ?? 'vulnerability') === type)
        .flatMap((c) => c.produces_mime_types),
    );
    const reports = (await this.deps.store.scanReports.ofDigests(all, found.uuid)).filter((r) =>
      mimes.has(r.mime_type),
    );
    const lists = new Map<number, Map<string, ScanReportHead[]>>();
    for (const row of rows) {
      const digests = covers.get(row.id)!;
      const byMime = new Map<string, ScanReportHead[]>();
      for (const r of reports)
        if (digests.includes(r.digest)) byMime.set(r.mime_type, [...(byMime.get(r.mime_type) ?? []), r]);
      // An index shows an overview once each of its scanned children has a report (Harbor).
      for (const [mime, list] of byMime) if (list.length < digests.length) byMime.delete(mime);
      lists.set(row.id, byMime);
    }
    const parsed = await reportDocuments(
      this.deps.store,
      [...lists.values()].flatMap((m) => [...m.values()].filter(overviewNeedsDocuments).flat()),
    );
    for (const [id, byMime] of lists) {
      const overview: Record<string, ScanOverview> = {};
      for (const [mime, list] of byMime) {
        const o = overviewOf(list, parsed);
        if (o) overview[mime] = o;
      }
      out.set(id, overview);
    }
    return out;
  }

  /**
   * Harbor's `sbom_overview` of each artifact (by id): status, times, duration, the accessory's digest
   * and the report id; an index shows its children's reports as one (the earliest start, the latest end).
   */
  async sbomOverviews(projectId: number, rows: ArtifactRow[]): Promise<Map<number, Record<string, unknown>>> {
    const out = new Map<number, Record<string, unknown>>();
    if (rows.length === 0) return out;
    const found = await this.deps.scanners.forProject(projectId);
    if (!found) return out;
    const metadata = await capabilitiesOf(found.scanner);
    const covers = new Map<number, string[]>();
    for (const row of rows)
      covers.set(
        row.id,
        (await this.collect(row.repository_id, row, metadata, 'sbom')).map((t) => t.row.digest),
      );
    const all = [...new Set([...covers.values()].flat())];
    const reports = await this.deps.store.scanReports.ofDigests(all, found.uuid, SBOM_REPORT_MIME_TYPE);
    const documents = await this.deps.store.scanReports.documents(
      reports.filter((r) => r.status === 'Success').map((r) => r.id),
    );
    for (const row of rows) {
      const digests = covers.get(row.id)!;
      const mine = reports.filter((r) => digests.includes(r.digest));
      if (mine.length > 0) out.set(row.id, sbomOverviewOf(mine, documents));
    }
    return out;
  }

  /** The manifests a scan of the artifact covers and their reports by the project's scanner; none without one. */
  async reportsOf(
    subject: ScanSubject,
  ): Promise<{ targets: string[]; reports: ScanReportHead[] } | undefined> {
    const found = await this.deps.scanners.forProject(subject.projectId);
    if (!found) return undefined;
    const metadata = await capabilitiesOf(found.scanner);
    const targets = await this.collect(subject.repositoryId, subject.row, metadata, 'vulnerability');
    return { targets: targets.map((t) => t.row.digest), reports: await this.reportsFor(targets, found.uuid) };
  }

  /** The reports by scanner `uuid` of the collected targets, of the MIME types they were collected for. */
  private async reportsFor(targets: { row: ArtifactRow; mimeTypes: string[] }[], uuid: string) {
    const mimes = new Set(targets.flatMap((t) => t.mimeTypes));
    const digests = targets.map((t) => t.row.digest);
    return (await this.deps.store.scanReports.ofDigests(digests, uuid)).filter((r) => mimes.has(r.mime_type));
  }

  vulnerabilityIds(reportIds: number[]) {
    return this.deps.store.scanReports.vulnerabilityIds(reportIds);
  }

  /** `.../additions/vulnerabilities`: the report per MIME type (an index's children's merged). */
  async vulnerabilities(subject: ScanSubject): Promise<Record<string, VulnerabilityReport>> {
    const { uuid, metadata } = await this.capableScannerOf(subject.projectId);
    const targets = await this.collect(subject.repositoryId, subject.row, metadata, 'vulnerability');
    if (targets.length === 0)
      throw new AppError('NOT_FOUND', `report not found for ${subject.repository}@${subject.row.digest}`);
    const reports = await this.reportsFor(targets, uuid);
    const parsed = await reportDocuments(this.deps.store, reports);
    const out: Record<string, VulnerabilityReport> = {};
    for (const mime of new Set(reports.map((r) => r.mime_type))) {
      const docs = reports
        .filter((r) => r.mime_type === mime && r.status === 'Success')
        .map(parsed)
        .filter((d): d is VulnerabilityReport => !!d);
      if (docs.length > 0) out[mime] = mergeReports(docs);
    }
    return out;
  }

  /** A report's log (Harbor's GET .../scan/{report_id}/log); an index's ids give their logs one after another. */
  async log(subject: ScanSubject, reportId: string): Promise<string | undefined> {
    const { uuid, metadata } = await this.capableScannerOf(subject.projectId);
    const targets = await this.collect(subject.repositoryId, subject.row, metadata, 'vulnerability');
    const digests = new Set(targets.map((t) => t.row.digest));
    const ids = parseReportIds(reportId);
    const logs: [string, string][] = [];
    for (const id of ids) {
      const r = await this.deps.store.scanReports.byUuid(id);
      if (!r) continue;
      if (!digests.has(r.digest) || r.registration_uuid !== uuid)
        throw new AppError('NOT_FOUND', `scan log with uuid: ${reportId} not found`);
      logs.push([id, await this.logText(r)]);
    }
    if (logs.length === 0) return undefined;
    if (ids.length === 1) return logs[0]![1];
    return logs
      .filter(([, text]) => text)
      .map(([id, text]) => `---------- Logs of report ${id} ----------\n${text}`)
      .join('\n\n\n\n');
  }

  private async logText(r: ScanReportHead): Promise<string> {
    if (r.log || r.job_id === null) return r.log;
    const job = await this.deps.store.jobs.find(r.job_id);
    return job ? jobLogText(this.deps.store, job) : '';
  }
}

type Capabilities = Pick<ScannerMetadata, 'capabilities'>;

/** A scanner's capabilities: without its metadata's work when it knows them (`Scanner.capabilities`). */
async function capabilitiesOf(scanner: Scanner): Promise<Capabilities> {
  return { capabilities: scanner.capabilities?.() ?? (await scanner.metadata()).capabilities };
}

/** Harbor's report MIME type of an SBOM (what a scanner's sbom capability produces). */
export const SBOM_REPORT_MIME_TYPE = 'application/vnd.security.sbom.report+json; version=1.0';

/** One SBOM report's summary as Harbor shows it; several (an index's children) merged. */
export function sbomOverviewOf(
  reports: ScanReportHead[],
  documents: Map<number, string>,
): Record<string, unknown> {
  if (reports.length === 1) {
    const r = reports[0]!;
    const doc = documents.get(r.id);
    if (r.status === 'Success' && doc) return { ...(JSON.parse(doc) as object), report_id: r.uuid };
    const end = r.end_time ?? undefined;
    return {
      report_id: r.uuid,
      scan_status: r.status,
      start_time: r.start_time,
      ...(end
        ? { end_time: end, duration: Math.round((Date.parse(end) - Date.parse(r.start_time)) / 1000) }
        : {}),
    };
  }
  const order = ['Running', 'Pending', 'Error', 'Stopped', 'Success'];
  const status = order.find((s) => reports.some((r) => r.status === s)) ?? 'Success';
  const start = reports.map((r) => r.start_time).sort()[0]!;
  const ends = reports.map((r) => r.end_time);
  const end = ends.every((e) => e) ? (ends as string[]).sort().at(-1)! : undefined;
  return {
    report_id: Buffer.from(reports.map((r) => r.uuid).join('|')).toString('base64'),
    scan_status: status,
    start_time: start,
    ...(end ? { end_time: end, duration: Math.round((Date.parse(end) - Date.parse(start)) / 1000) } : {}),
  };
}

/** Reads the documents of the succeeded ones of `reports` at once; answers a report's document, parsed. */
export async function reportDocuments(
  store: Pick<MetaStore, 'scanReports'>,
  reports: ScanReportHead[],
): Promise<(r: ScanReportHead) => VulnerabilityReport | undefined> {
  const ids = reports.filter((r) => r.status === 'Success').map((r) => r.id);
  const documents = ids.length ? await store.scanReports.documents(ids) : new Map<number, string>();
  return (r) => {
    const doc = documents.get(r.id);
    return doc ? (JSON.parse(doc) as VulnerabilityReport) : undefined;
  };
}

/** Reports of an index's children as one: each vulnerability once, the highest severity. */
function mergeReports(docs: VulnerabilityReport[]): VulnerabilityReport {
  if (docs.length === 1) return docs[0]!;
  const seen = new Map<string, VulnerabilityItem>();
  for (const d of docs)
    for (const v of d.vulnerabilities) {
      const key = `${v.id}\u0000${v.package}\u0000${v.version}`;
      if (!seen.has(key)) seen.set(key, v);
    }
  const newest = docs.reduce((a, b) => (a.generated_at > b.generated_at ? a : b));
  return {
    generated_at: newest.generated_at,
    scanner: newest.scanner,
    severity: docs.map((d) => d.severity).reduce(maxSeverity),
    vulnerabilities: [...seen.values()],
  };
}
