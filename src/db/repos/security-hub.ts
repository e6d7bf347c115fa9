import { sql, type Kysely } from 'kysely';
import type { ListQuery } from '../../lib/query.js';
import type { Database } from '../tables.js';
import type { SeverityCounts } from './scan-reports.js';
import { applyKeywords, keywordCondition, type FieldMap } from './list-filter.js';

/**
 * `GET /security/vul`'s `q` keys, as Harbor's security hub DAO declares them (src/pkg/securityhub/dao):
 * exact matches, `cvss_score_v3` a range, `tag` an artifact holding that tag. Harbor has no sort here.
 */
export const securityVulFields: FieldMap = {
  cve_id: { type: 'string', column: 'v.cve_id', sort: false },
  severity: { type: 'string', column: 'v.severity', sort: false },
  cvss_score_v3: { type: 'number', column: 'v.cvss_score_v3', sort: false },
  project_id: { type: 'int', column: 'r.project_id', sort: false },
  repository_name: { type: 'string', column: 'r.name', sort: false },
  package: { type: 'string', column: 'v.package', sort: false },
  tag: { type: 'string', sort: false },
  digest: { type: 'string', column: 'a.digest', sort: false },
};

export type SeveritySums = Omit<SeverityCounts, 'total'>;

export interface DangerousArtifactRow {
  projectId: number;
  repository: string;
  digest: string;
  critical: number;
  high: number;
  medium: number;
}

export interface DangerousCveRow {
  cveId: string;
  package: string;
  version: string;
  severity: string;
  cvssScoreV3: number;
  description: string;
}

export interface VulnerabilityRow {
  artifactId: number;
  projectId: number;
  repository: string;
  digest: string;
  cveId: string;
  package: string;
  version: string;
  fixVersion: string;
  severity: string;
  cvssScoreV3: number | null;
  description: string;
  links: string;
}

/** Counting stops here when the caller asked for Harbor's `tune_count`. */
export const tunedCountLimit = 1000;

/**
 * The security hub's reads, across every artifact and the reports of one scanner (Harbor's semantics:
 * an artifact counts once per repository holding its digest; reports of other MIME types, such as SBOMs,
 * are not vulnerability reports and are left out).
 */
export class SecurityHubRepo {
  constructor(private readonly db: Kysely<Database>) {}

  private reports(registrationUuid: string, mimeType: string) {
    return this.db
      .selectFrom('artifact as a')
      .innerJoin('scan_report as s', 's.digest', 'a.digest')
      .where('s.registration_uuid', '=', registrationUuid)
      .where('s.mime_type', '=', mimeType);
  }

  async sums(registrationUuid: string, mimeType: string): Promise<SeveritySums> {
    const sum = (c: string) => sql<number>`coalesce(sum(${sql.ref(c)}), 0)`;
    const row = await this.reports(registrationUuid, mimeType)
      .select([
        sum('s.critical_cnt').as('critical'),
        sum('s.high_cnt').as('high'),
        sum('s.medium_cnt').as('medium'),
        sum('s.low_cnt').as('low'),
        sum('s.none_cnt').as('none'),
        sum('s.unknown_cnt').as('unknown'),
        sum('s.fixable_cnt').as('fixable'),
      ])
      .executeTakeFirstOrThrow();
    // Sums come back as strings from PostgreSQL.
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) as unknown as SeveritySums;
  }

  async totalArtifacts(): Promise<number> {
    const row = await this.db
      .selectFrom('artifact')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Artifacts with a report (any status) of this scanner. */
  async scannedArtifacts(registrationUuid: string, mimeType: string): Promise<number> {
    const row = await this.db
      .selectFrom('artifact as a')
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('scan_report as s')
            .select(sql.lit(1).as('one'))
            .whereRef('s.digest', '=', 'a.digest')
            .where('s.registration_uuid', '=', registrationUuid)
            .where('s.mime_type', '=', mimeType),
        ),
      )
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The five artifacts with the most critical, then high, medium and low vulnerabilities. */
  async dangerousArtifacts(registrationUuid: string, mimeType: string): Promise<DangerousArtifactRow[]> {
    const rows = await this.reports(registrationUuid, mimeType)
      .innerJoin('repository as r', 'r.id', 'a.repository_id')
      .where(sql<boolean>`s.critical_cnt + s.high_cnt + s.medium_cnt + s.low_cnt > 0`)
      .select(['r.project_id', 'r.name', 'a.digest', 's.critical_cnt', 's.high_cnt', 's.medium_cnt'])
      .orderBy('s.critical_cnt', 'desc')
      .orderBy('s.high_cnt', 'desc')
      .orderBy('s.medium_cnt', 'desc')
      .orderBy('s.low_cnt', 'desc')
      .orderBy('a.id', 'asc')
      .limit(5)
      .execute();
    return rows.map((r) => ({
      projectId: r.project_id,
      repository: r.name,
      digest: r.digest,
      critical: r.critical_cnt,
      high: r.high_cnt,
      medium: r.medium_cnt,
    }));
  }

  /**
   * The five vulnerabilities (CVE, package, version) with the highest CVSS v3 score, then severity.
   *
   * Rows repeat per report, so the ranking is over groups; grouping every row read the whole table (2.5 s
   * at 100 000 rows on SQLite). Instead the rows are first read from the top of the score index
   * (scan_vulnerability_cvss) until five groups have shown up: the score T where the fifth appears is the
   * fifth highest group score, so no group scoring below T can make the five. The groups are then ranked
   * over every row of the CVEs that reach T, which are few, with the same aggregates as before.
   */
  async dangerousCves(registrationUuid: string): Promise<DangerousCveRow[]> {
    const want = 5;
    let floor: number | undefined;
    for (let rows = 200; floor === undefined; rows *= 4) {
      const top = await this.db
        .selectFrom('scan_vulnerability as v')
        .innerJoin('scan_report as s', 's.id', 'v.report_id')
        .where('s.registration_uuid', '=', registrationUuid)
        .where('s.status', '=', 'Success')
        .where('v.cvss_score_v3', 'is not', null)
        .select(['v.cve_id', 'v.package', 'v.version', 'v.cvss_score_v3'])
        .orderBy('v.cvss_score_v3', (ob) => ob.desc().nullsLast())
        .limit(rows)
        .execute();
      const groups = new Set<string>();
      for (const r of top) {
        groups.add(`${r.cve_id}\0${r.package}\0${r.version}`);
        if (groups.size === want) {
          floor = Number(r.cvss_score_v3);
          break;
        }
      }
      // Fewer groups than five in all: every row counts.
      if (floor === undefined && top.length < rows) floor = -Infinity;
    }
    let q = this.db
      .selectFrom('scan_vulnerability as v')
      .innerJoin('scan_report as s', 's.id', 'v.report_id')
      .where('s.registration_uuid', '=', registrationUuid)
      .where('s.status', '=', 'Success')
      .where('v.cvss_score_v3', 'is not', null);
    if (floor !== -Infinity)
      q = q.where('v.cve_id', 'in', (eb) =>
        eb
          .selectFrom('scan_vulnerability as t')
          .innerJoin('scan_report as ts', 'ts.id', 't.report_id')
          .where('ts.registration_uuid', '=', registrationUuid)
          .where('ts.status', '=', 'Success')
          .where('t.cvss_score_v3', '>=', floor)
          .select('t.cve_id'),
      );
    const rows = await q
      .select([
        'v.cve_id',
        'v.package',
        'v.version',
        sql<string>`max(v.severity)`.as('severity'),
        sql<number>`max(v.severity_code)`.as('severity_code'),
        sql<number>`max(v.cvss_score_v3)`.as('score'),
        sql<string>`max(v.description)`.as('description'),
      ])
      .groupBy(['v.cve_id', 'v.package', 'v.version'])
      .orderBy(sql`max(v.cvss_score_v3)`, 'desc')
      .orderBy(sql`max(v.severity_code)`, 'desc')
      .orderBy('v.cve_id')
      .orderBy('v.package')
      .limit(want)
      .execute();
    return rows.map((r) => ({
      cveId: r.cve_id,
      package: r.package,
      version: r.version,
      severity: r.severity,
      cvssScoreV3: Number(r.score),
      description: r.description,
    }));
  }

  private vulnerabilities(registrationUuid: string, keywords: ListQuery['keywords']) {
    let q = this.db
      .selectFrom('scan_vulnerability as v')
      .innerJoin('scan_report as s', 's.id', 'v.report_id')
      .innerJoin('artifact as a', 'a.digest', 's.digest')
      .innerJoin('repository as r', 'r.id', 'a.repository_id')
      .where('s.registration_uuid', '=', registrationUuid)
      // A report's rows are written before it ends Success (ScanReportRepo.runFill): only then are they its.
      .where('s.status', '=', 'Success');
    q = applyKeywords(q, securityVulFields, keywords);
    const tag = keywords.tag;
    if (tag)
      q = q.where('a.id', 'in', (eb) =>
        eb
          .selectFrom('tag')
          .select('tag.artifact_id')
          .where((w) => keywordCondition(w, 'tag.name', 'string', tag)),
      );
    return q;
  }

  /** Matching vulnerabilities, highest CVSS v3 first (unscored last), one page. */
  async listVulnerabilities(registrationUuid: string, query: ListQuery): Promise<VulnerabilityRow[]> {
    const rows = await this.vulnerabilities(registrationUuid, query.keywords)
      .select([
        'a.id as artifact_id',
        'r.project_id',
        'r.name as repository',
        'a.digest',
        'v.cve_id',
        'v.package',
        'v.version',
        'v.fix_version',
        'v.severity',
        'v.cvss_score_v3',
        'v.description',
        'v.links',
      ])
      // As the index scan_vulnerability_cvss is ordered (0028b), so it serves the sort.
      .orderBy('v.cvss_score_v3', (ob) => ob.desc().nullsLast())
      .orderBy('v.severity_code', 'desc')
      .orderBy('v.cve_id')
      .orderBy('a.id')
      .orderBy('v.package')
      .orderBy('v.version')
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize)
      .execute();
    return rows.map((r) => ({
      artifactId: r.artifact_id,
      projectId: r.project_id,
      repository: r.repository,
      digest: r.digest,
      cveId: r.cve_id,
      package: r.package,
      version: r.version,
      fixVersion: r.fix_version,
      severity: r.severity,
      cvssScoreV3: r.cvss_score_v3 === null ? null : Number(r.cvss_score_v3),
      description: r.description,
      links: r.links,
    }));
  }

  /** How many match; with `tuned`, -1 once more than `tunedCountLimit` do (Harbor's tune_count). */
  async countVulnerabilities(registrationUuid: string, query: ListQuery, tuned: boolean): Promise<number> {
    const base = this.vulnerabilities(registrationUuid, query.keywords).select(sql.lit(1).as('one'));
    const counted = tuned ? base.limit(tunedCountLimit + 1) : base;
    const row = await this.db
      .selectFrom(counted.as('m'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const n = Number(row.n);
    return tuned && n > tunedCountLimit ? -1 : n;
  }

  /** A project's artifacts that are not accessories, with their repository names (the CVE export's candidates). */
  projectArtifacts(projectId: number): Promise<{ id: number; digest: string; repository: string }[]> {
    return this.db
      .selectFrom('artifact as a')
      .innerJoin('repository as r', 'r.id', 'a.repository_id')
      .where('r.project_id', '=', projectId)
      .where('a.subject_digest', 'is', null)
      .select(['a.id', 'a.digest', 'r.name as repository'])
      .orderBy('r.name')
      .orderBy('a.id')
      .execute();
  }

  /** Tag names per artifact, at most `limit` each (Harbor shows ten). */
  async tagsOf(artifactIds: number[], limit: number): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    if (artifactIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('tag')
      .select(['artifact_id', 'name'])
      .where('artifact_id', 'in', [...new Set(artifactIds)])
      .orderBy('artifact_id')
      .orderBy('name')
      .execute();
    for (const r of rows) {
      const list = out.get(r.artifact_id) ?? [];
      if (list.length < limit) list.push(r.name);
      out.set(r.artifact_id, list);
    }
    return out;
  }
}
