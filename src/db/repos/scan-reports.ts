import { gunzipSync, gzipSync } from 'node:zlib';
import { CompiledQuery, PostgresAdapter, sql, type Kysely } from 'kysely';
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

/** A report's fill, compiled (ScanReportRepo.fillStatements), to run as short statements (`runFill`). */
export interface FillStatements {
  /** Deletes the report's vulnerability rows: an earlier attempt's left by a crash, or this one's. */
  clear: PlainStatement;
  /** The rows' INSERTs, each a statement (and on its own, a transaction) of its own. */
  rows: PlainStatement[];
  /** The report's document, severity and counts, its log and end, Success: while pending or running. */
  end: PlainStatement;
}

/** Runs one statement (the scanning process: never stopped by its CPU governor inside one). */
export type StatementGate = <T>(statement: () => Promise<T>) => Promise<T>;
const ungated: StatementGate = (statement) => statement();

/** Rows per INSERT of a report's vulnerabilities: each holds SQLite's write lock for a few ms. */
const ROWS_PER_INSERT = 250;

/**
 * Documents from this size on are stored gzipped (`gzip:` and base64 in the same text column; readers
 * take either): a vulnerability report of 8,010 findings is 5.6 MB of JSON, and SQLite writes a row whole,
 * so its write held the database's write lock for ~1,400 pages.
 */
const PACK_FROM_BYTES = 64 * 1024;
const PACKED = 'gzip:';

/** A document as stored: gzipped when large. */
export function packDocument(text: string): string {
  if (text.length < PACK_FROM_BYTES) return text;
  return PACKED + gzipSync(text, { level: 6 }).toString('base64');
}

/** A stored document's text, gzipped or not. */
export function unpackDocument(stored: string): string {
  if (!stored.startsWith(PACKED)) return stored;
  return gunzipSync(Buffer.from(stored.slice(PACKED.length), 'base64')).toString('utf8');
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
  /** The INSERT of n vulnerability rows as Kysely built it (`rowInserts`), by n; null: not reusable. */
  private readonly inserts = new Map<number, { sql: string; columns: string[] } | null>();

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
    return this.db
      .selectFrom('scan_report')
      .select(HEAD_COLUMNS)
      .where('job_id', '=', jobId)
      .whereRef('registration_uuid', '!=', 'uuid')
      .execute();
  }

  /** A report by its uuid; a detached one (a rescan replaced it) is gone. */
  byUuid(uuid: string): Promise<ScanReportHead | undefined> {
    return this.db
      .selectFrom('scan_report')
      .select(HEAD_COLUMNS)
      .where('uuid', '=', uuid)
      .whereRef('registration_uuid', '!=', 'uuid')
      .executeTakeFirst();
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
      for (const r of rows) out.set(r.id, unpackDocument(r.report!));
    }
    return out;
  }

  /** A new report in state Pending (any earlier one of the same key must be detached first). */
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

  /**
   * Takes an ended report out of its key, for a rescan's new report (`create`): one single-row UPDATE
   * that sets its `registration_uuid` to its own `uuid`, which no scanner registration has, so no reader
   * (they all ask for a scanner's reports, or for a report by uuid or job, which exclude detached ones)
   * sees it any more. Its vulnerability rows and document go later, off the request (`purgeDetached`,
   * run by whoever writes the new report): the cascade of an 8,010-finding report's rows took 17-28 ms of
   * the serving thread's CPU in `POST …/scan`. On SQLite the UPDATE keeps the row's size when the
   * registration uuid is a uuid too, so the document's overflow pages are not rewritten.
   */
  async detach(id: number): Promise<void> {
    await this.db
      .updateTable('scan_report')
      .set((eb) => ({ registration_uuid: eb.ref('uuid') }))
      .where('id', '=', id)
      .execute();
  }

  /**
   * Deletes detached reports (`detach`), their vulnerability rows first, in short statements: on SQLite
   * each DELETE holds the file's write lock, which the serving process's writes wait for, so the rows go
   * `rows` at a time. Any caller may run it, several at once: each statement is idempotent. Finds every
   * detached report, whoever detached it and whenever (a process killed between the rescan's detach and
   * the purge leaves one, which the next purge, after any scan on any node, removes); answers how many
   * reports it deleted. `pauseMs` between the DELETEs lets other connections' writes in (on SQLite);
   * `gate` runs each DELETE (the scanning process's CPU governor may not stop it inside one).
   */
  async purgeDetached({
    rows = 250,
    pauseMs = 0,
    gate = ungated,
  }: { rows?: number; pauseMs?: number; gate?: StatementGate } = {}): Promise<number> {
    const detached = await this.db
      .selectFrom('scan_report')
      .select('id')
      .whereRef('registration_uuid', '=', 'uuid')
      .execute();
    if (detached.length === 0) return 0;
    const postgres = this.db.getExecutor().adapter instanceof PostgresAdapter;
    for (const { id } of detached) {
      if (postgres) {
        // No file lock to hand on between statements: one DELETE.
        await gate(() => this.db.deleteFrom('scan_vulnerability').where('report_id', '=', id).execute());
      } else {
        for (;;) {
          const r = await gate(() =>
            sql`delete from scan_vulnerability where rowid in (select rowid from scan_vulnerability where report_id = ${id} limit ${rows})`.execute(
              this.db,
            ),
          );
          if (Number(r.numAffectedRows ?? 0) < rows) break;
          // Another connection's write waiting for the lock retries every millisecond (db/connect.ts):
          // statements back to back would leave it no moment to take the lock.
          if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        }
      }
      await gate(() =>
        this.db
          .deleteFrom('scan_report')
          .where('id', '=', id)
          .whereRef('registration_uuid', '=', 'uuid')
          .execute(),
      );
    }
    return detached.length;
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
   * ending it Success with this log and end time (`runFill`). The scanning process compiles them before
   * it writes, on a connection of its own, and runs them as short statements: on SQLite each holds the
   * whole file's write lock, which the serving process's writes wait for, and the process runs at nice 19,
   * so a step preempted by the requests it holds up lasts many times its CPU time (one transaction of
   * the 5.6 MB document and 8,010 rows held the lock 240-580 ms at load 10). The rows are invisible until
   * the report ends Success (every reader of rows takes a succeeded report's only); the document is
   * gzipped (`packDocument`) and written with the end, in one statement. Ending the report in the scan
   * job instead would rewrite the whole row, its document included, on the serving thread.
   */
  fillStatements(
    id: number,
    o: Required<Pick<ScanOutcome, 'severity' | 'counts' | 'scanner' | 'report'>>,
    vulnerabilities: NewScanVulnerability[],
    end: { log: string; endTime: string },
  ): FillStatements {
    const report = o.report === null ? null : packDocument(o.report);
    return {
      clear: plain(this.db.deleteFrom('scan_vulnerability').where('report_id', '=', id).compile()),
      rows: this.rowInserts(id, vulnerabilities, ROWS_PER_INSERT),
      end: plain(
        this.db
          .updateTable('scan_report')
          .set({ ...reportColumns({ ...o, report }), status: 'Success', log: end.log, end_time: end.endTime })
          .where('id', '=', id)
          .where('status', 'in', ['Pending', 'Running'])
          .compile(),
      ),
    };
  }

  /**
   * Runs `fillStatements` one statement at a time (not in a transaction; each through `gate`: the
   * scanning process's CPU governor may not stop it inside one): the rows, then the report's
   * end; false (and its rows deleted again) when the report had ended meanwhile (stopped). A process
   * killed midway leaves rows on a report that is not Success, which nothing reads, and which the job's
   * end (Error, Stopped: `finish`), its next attempt (`clear`) or the next scan's detach and purge remove.
   */
  async runFill(s: FillStatements, gate: StatementGate = ungated): Promise<boolean> {
    const run = (q: PlainStatement) => gate(() => this.db.executeQuery(compiled(q)));
    await run(s.clear);
    try {
      for (const q of s.rows) await run(q);
      const r = await run(s.end);
      if (Number(r.numAffectedRows ?? 0) > 0) return true;
    } catch (err) {
      await run(s.clear).catch(() => undefined);
      throw err;
    }
    await run(s.clear);
    return false;
  }

  private async insertRows(id: number, vulnerabilities: NewScanVulnerability[]): Promise<void> {
    for (const q of this.rowInserts(id, vulnerabilities)) await this.db.executeQuery(compiled(q));
  }

  /**
   * The INSERTs of a report's rows, `batch` to a statement. Kysely builds the first statement of each
   * size this repo meets; the others of that size, this report's and later ones', reuse its SQL with
   * their rows' values put straight into its parameter order (building 32 INSERTs of 250 rows through
   * Kysely took ~100 ms of CPU per 8,010-finding report, as much as matching a third of it; copying each
   * row into an object with its report id first, ~20-40 ms more). The reuse is checked against Kysely's
   * own parameters for the statement it built, and Kysely builds them all if they differ.
   */
  private rowInserts(id: number, vulnerabilities: NewScanVulnerability[], batch = 500): PlainStatement[] {
    const out: PlainStatement[] = [];
    // Batches keep each INSERT under SQLite's bound-parameter limit.
    for (let i = 0; i < vulnerabilities.length; i += batch) {
      const slice = vulnerabilities.slice(i, i + batch);
      const same = this.inserts.get(slice.length);
      if (same) {
        const { columns } = same;
        const parameters: unknown[] = [];
        for (const v of slice)
          for (const c of columns) parameters.push(c === 'report_id' ? id : (v[c as keyof typeof v] ?? null));
        out.push({ sql: same.sql, parameters });
        continue;
      }
      const rows = slice.map((v) => ({ ...v, report_id: id }));
      const q = plain(this.db.insertInto('scan_vulnerability').values(rows).compile());
      out.push(q);
      if (same === null) continue;
      const columns = Object.keys(rows[0]!);
      const flat = rows.flatMap((row) => columns.map((c) => row[c as keyof typeof row]));
      const reusable = flat.length === q.parameters.length && flat.every((v, k) => v === q.parameters[k]);
      this.inserts.set(slice.length, reusable ? { sql: q.sql, columns } : null);
    }
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
