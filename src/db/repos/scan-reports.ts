import { CompiledQuery, type Kysely } from 'kysely';
import type { Database, ScanReportHead, ScanReportRow, ScanVulnerabilityTable } from '../tables.js';

/** What a finished scan writes on its report. */
export interface ScanOutcome {
  status: 'Success' | 'Error' | 'Stopped';
  severity?: string;
  counts?: SeverityCounts;
  scanner?: string;
  report?: string | null;
  log: string;
  endTime: string;
}

/** A report's columns from a scan's outcome. */
function reportColumns(o: Pick<ScanOutcome, 'severity' | 'counts' | 'scanner' | 'report'>) {
  const c = o.counts;
  return {
    severity: o.severity ?? '',
    critical_cnt: c?.critical ?? 0,
    high_cnt: c?.high ?? 0,
    medium_cnt: c?.medium ?? 0,
    low_cnt: c?.low ?? 0,
    none_cnt: c?.none ?? 0,
    unknown_cnt: c?.unknown ?? 0,
    fixable_cnt: c?.fixable ?? 0,
    total_cnt: c?.total ?? 0,
    ...(o.scanner !== undefined ? { scanner: o.scanner } : {}),
    report: o.report ?? null,
  };
}

export interface SeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  none: number;
  unknown: number;
  fixable: number;
  total: number;
}

export type NewScanVulnerability = Omit<ScanVulnerabilityTable, 'report_id'>;

/** A compiled statement as plain data (its SQL and parameters), which crosses threads. */
export interface PlainStatement {
  sql: string;
  parameters: readonly unknown[];
}

/** A report's fill, compiled (ScanReportRepo.fillStatements). */
export interface FillStatements {
  update: PlainStatement;
  rows: PlainStatement[];
}

const plain = (q: CompiledQuery): PlainStatement => ({ sql: q.sql, parameters: q.parameters });
const compiled = (s: PlainStatement) => CompiledQuery.raw(s.sql, [...s.parameters]);

const ZERO_COUNTS = {
  critical_cnt: 0,
  high_cnt: 0,
  medium_cnt: 0,
  low_cnt: 0,
  none_cnt: 0,
  unknown_cnt: 0,
  fixable_cnt: 0,
  total_cnt: 0,
};

/**
 * Every column but the document: listings, overviews, the pull policy and the scan job read reports
 * often (a listing polled while a scan runs), and the document is read only where it is shown.
 */
const HEAD_COLUMNS = [
  'id',
  'uuid',
  'digest',
  'registration_uuid',
  'mime_type',
  'status',
  'job_id',
  'severity',
  'critical_cnt',
  'high_cnt',
  'medium_cnt',
  'low_cnt',
  'none_cnt',
  'unknown_cnt',
  'fixable_cnt',
  'total_cnt',
  'scanner',
  'log',
  'start_time',
  'end_time',
] as const satisfies readonly (keyof ScanReportHead)[];

/** Statuses after which a report changes no more (a new scan replaces it). */
export const FINAL_SCAN_STATUSES = ['Success', 'Error', 'Stopped'];

/**
 * Scan reports, keyed like Harbor's by (artifact digest, scanner registration uuid, report MIME type), and
 * their vulnerabilities as rows.
 */
export class ScanReportRepo {
  constructor(private readonly db: Kysely<Database>) {}

  find(digest: string, registrationUuid: string, mimeType: string): Promise<ScanReportHead | undefined> {
    return this.db
      .selectFrom('scan_report')
      .select(HEAD_COLUMNS)
      .where('digest', '=', digest)
      .where('registration_uuid', '=', registrationUuid)
      .where('mime_type', '=', mimeType)
      .executeTakeFirst();
  }

  /** The reports of these digests by one scanner (all MIME types unless one is given). */
  async ofDigests(digests: string[], registrationUuid: string, mimeType?: string): Promise<ScanReportHead[]> {
    if (digests.length === 0) return [];
    let q = this.db
      .selectFrom('scan_report')
      .select(HEAD_COLUMNS)
      .where('digest', 'in', digests)
      .where('registration_uuid', '=', registrationUuid);
    if (mimeType) q = q.where('mime_type', '=', mimeType);
    return q.execute();
  }

  /** The reports a `scan.artifact` job fills. */
  ofJob(jobId: number): Promise<ScanReportHead[]> {
    return this.db.selectFrom('scan_report').select(HEAD_COLUMNS).where('job_id', '=', jobId).execute();
  }

  byUuid(uuid: string): Promise<ScanReportHead | undefined> {
    return this.db.selectFrom('scan_report').select(HEAD_COLUMNS).where('uuid', '=', uuid).executeTakeFirst();
  }

  /** The documents (JSON text) of these reports, by report id; reports without one are absent. */
  async documents(ids: number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('scan_report')
        .select(['id', 'report'])
        .where('id', 'in', ids.slice(i, i + 500))
        .where('report', 'is not', null)
        .execute();
      for (const r of rows) out.set(r.id, r.report!);
    }
    return out;
  }

  /** A new report in state Pending (any earlier one of the same key must be deleted first). */
  async create(
    r: { uuid: string; digest: string; registrationUuid: string; mimeType: string },
    now: string,
  ): Promise<ScanReportRow> {
    return this.db
      .insertInto('scan_report')
      .values({
        uuid: r.uuid,
        digest: r.digest,
        registration_uuid: r.registrationUuid,
        mime_type: r.mimeType,
        status: 'Pending',
        job_id: null,
        severity: '',
        ...ZERO_COUNTS,
        scanner: '',
        report: null,
        log: '',
        start_time: now,
        end_time: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('scan_vulnerability').where('report_id', '=', id).execute();
    await this.db.deleteFrom('scan_report').where('id', '=', id).execute();
  }

  async setJob(id: number, jobId: number): Promise<void> {
    await this.db.updateTable('scan_report').set({ job_id: jobId }).where('id', '=', id).execute();
  }

  /** Pending → Running; false when the report is no longer pending (stopped, or replaced). */
  async start(id: number, now: string): Promise<boolean> {
    const r = await this.db
      .updateTable('scan_report')
      .set({ status: 'Running', start_time: now })
      .where('id', '=', id)
      .where('status', 'in', ['Pending', 'Running'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Records a scan's end, with its vulnerabilities when it succeeded; false when it had already ended.
   * A report that did not succeed keeps no vulnerability rows.
   */
  async finish(id: number, o: ScanOutcome, vulnerabilities: NewScanVulnerability[] = []): Promise<boolean> {
    const ended = { status: o.status, log: o.log, end_time: o.endTime };
    const r = await this.db
      .updateTable('scan_report')
      .set({ ...ended, ...reportColumns(o) })
      .where('id', '=', id)
      .where('status', 'in', ['Pending', 'Running'])
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return false;
    if (o.status !== 'Success')
      await this.db.deleteFrom('scan_vulnerability').where('report_id', '=', id).execute();
    await this.insertRows(id, vulnerabilities);
    return true;
  }

  /**
   * A built-in scan's report and its vulnerability rows, to write into a report still pending or running,
   * ending it Success with this log and end time (`runFill`; false when it has ended meanwhile, stopped).
   * The scanning process compiles them before its transaction on a connection of its own, so that the
   * database's write lock (on SQLite, the whole file's, which the serving process waits for) is held only
   * while the database runs them; the scan job then only publishes its event: ending the report there
   * would rewrite the whole row, its multi-megabyte document included (SQLite writes a row whole), on the
   * serving thread.
   */
  fillStatements(
    id: number,
    o: Required<Pick<ScanOutcome, 'severity' | 'counts' | 'scanner' | 'report'>>,
    vulnerabilities: NewScanVulnerability[],
    end: { log: string; endTime: string },
  ): FillStatements {
    const update = this.db
      .updateTable('scan_report')
      .set({ ...reportColumns(o), status: 'Success', log: end.log, end_time: end.endTime })
      .where('id', '=', id)
      .where('status', 'in', ['Pending', 'Running'])
      .compile();
    const rows = [
      plain(this.db.deleteFrom('scan_vulnerability').where('report_id', '=', id).compile()),
      ...this.rowInserts(id, vulnerabilities),
    ];
    return { update: plain(update), rows };
  }

  /** Runs `fillStatements`: the report's update, then (when it was still pending or running) its rows. */
  async runFill(s: FillStatements): Promise<boolean> {
    const r = await this.db.executeQuery(compiled(s.update));
    if (Number(r.numAffectedRows ?? 0) === 0) return false;
    for (const q of s.rows) await this.db.executeQuery(compiled(q));
    return true;
  }

  private async insertRows(id: number, vulnerabilities: NewScanVulnerability[]): Promise<void> {
    for (const q of this.rowInserts(id, vulnerabilities)) await this.db.executeQuery(compiled(q));
  }

  private rowInserts(id: number, vulnerabilities: NewScanVulnerability[]): PlainStatement[] {
    const out: PlainStatement[] = [];
    // Batches keep each INSERT under SQLite's bound-parameter limit.
    for (let i = 0; i < vulnerabilities.length; i += 500)
      out.push(
        plain(
          this.db
            .insertInto('scan_vulnerability')
            .values(vulnerabilities.slice(i, i + 500).map((v) => ({ ...v, report_id: id })))
            .compile(),
        ),
      );
    return out;
  }

  /**
   * A project's open vulnerabilities by severity: the sum over the succeeded reports (of one scanner and
   * MIME type) of the distinct digests its artifacts have.
   */
  async projectCounts(
    projectId: number,
    registrationUuid: string,
    mimeType: string,
  ): Promise<SeverityCounts> {
    const row = await this.db
      .selectFrom('scan_report')
      .select((eb) => [
        eb.fn.coalesce(eb.fn.sum<number>('critical_cnt'), eb.lit(0)).as('critical'),
        eb.fn.coalesce(eb.fn.sum<number>('high_cnt'), eb.lit(0)).as('high'),
        eb.fn.coalesce(eb.fn.sum<number>('medium_cnt'), eb.lit(0)).as('medium'),
        eb.fn.coalesce(eb.fn.sum<number>('low_cnt'), eb.lit(0)).as('low'),
        eb.fn.coalesce(eb.fn.sum<number>('none_cnt'), eb.lit(0)).as('none'),
        eb.fn.coalesce(eb.fn.sum<number>('unknown_cnt'), eb.lit(0)).as('unknown'),
        eb.fn.coalesce(eb.fn.sum<number>('fixable_cnt'), eb.lit(0)).as('fixable'),
        eb.fn.coalesce(eb.fn.sum<number>('total_cnt'), eb.lit(0)).as('total'),
      ])
      .where('status', '=', 'Success')
      .where('registration_uuid', '=', registrationUuid)
      .where('mime_type', '=', mimeType)
      .where('digest', 'in', (eb) =>
        eb
          .selectFrom('artifact')
          .innerJoin('repository', 'repository.id', 'artifact.repository_id')
          .select('artifact.digest')
          .where('repository.project_id', '=', projectId),
      )
      .executeTakeFirstOrThrow();
    return {
      critical: Number(row.critical),
      high: Number(row.high),
      medium: Number(row.medium),
      low: Number(row.low),
      none: Number(row.none),
      unknown: Number(row.unknown),
      fixable: Number(row.fixable),
      total: Number(row.total),
    };
  }

  /** The vulnerability ids and severity codes of these reports. */
  vulnerabilityIds(reportIds: number[]): Promise<{ cve_id: string; severity_code: number }[]> {
    if (reportIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('scan_vulnerability')
      .select(['cve_id', 'severity_code'])
      .where('report_id', 'in', reportIds)
      .execute();
  }
}
