import type { Kysely } from 'kysely';
import type { Database } from '../tables.js';

export interface VulnImportRow {
  id: number;
  state: 'loading' | 'active' | 'retired';
  version: string;
  source: string;
  recordCount: number;
  skippedCount: number;
  importTime: string;
}

export interface AdvisoryRow {
  id: string;
  aliases: string[];
  summary: string;
  details: string;
  links: string[];
  cweIds: string[];
  modified: string;
}

export interface AffectedRow {
  vulnId: string;
  ecosystem: string;
  name: string;
  ranges: Array<{ type: string; events: Array<Record<string, string>> }>;
  versions: string[];
  severity: string;
  cvss: unknown;
}

/** Rows per INSERT: under SQLite's 32766 and PostgreSQL's 65535 bound parameters at 8 columns. */
const BATCH = 500;
/**
 * Keys per lookup (`in (…)`), under both bounds too: a scan's packages, or its findings' advisories,
 * in one statement each (an image with 8 000 findings read its advisories in 17 statements at 500).
 */
const READ_BATCH = 10_000;

/** The vulnerability database's generations (0018): load, activate, read, drop. */
export class VulnDbRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async beginImport(source: string, now: string): Promise<number> {
    const row = await this.db
      .insertInto('vuln_db_import')
      .values({
        state: 'loading',
        version: '',
        source,
        record_count: 0,
        skipped_count: 0,
        import_time: now,
        update_time: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async insert(importId: number, advisories: AdvisoryRow[], affected: AffectedRow[]): Promise<void> {
    for (let i = 0; i < advisories.length; i += BATCH)
      await this.db
        .insertInto('vuln_advisory')
        .values(
          advisories.slice(i, i + BATCH).map((a) => ({
            import_id: importId,
            id: a.id,
            aliases: JSON.stringify(a.aliases),
            summary: a.summary,
            details: a.details,
            links: JSON.stringify(a.links),
            cwe_ids: JSON.stringify(a.cweIds),
            modified: a.modified,
          })),
        )
        .execute();
    for (let i = 0; i < affected.length; i += BATCH)
      await this.db
        .insertInto('vuln_affected')
        .values(
          affected.slice(i, i + BATCH).map((e) => ({
            import_id: importId,
            ecosystem: e.ecosystem,
            name: e.name,
            vuln_id: e.vulnId,
            ranges: JSON.stringify(e.ranges),
            versions: JSON.stringify(e.versions),
            severity: e.severity,
            cvss: JSON.stringify(e.cvss),
          })),
        )
        .execute();
  }

  /** Makes a loaded import the active one and retires the previous; returns the retired import's id. */
  async activate(
    importId: number,
    facts: { version: string; recordCount: number; skippedCount: number },
    now: string,
  ): Promise<number | undefined> {
    const previous = await this.db
      .selectFrom('vuln_db_import')
      .select('id')
      .where('state', '=', 'active')
      .executeTakeFirst();
    if (previous)
      await this.db
        .updateTable('vuln_db_import')
        .set({ state: 'retired', update_time: now })
        .where('id', '=', previous.id)
        .execute();
    await this.db
      .updateTable('vuln_db_import')
      .set({
        state: 'active',
        version: facts.version,
        record_count: facts.recordCount,
        skipped_count: facts.skippedCount,
        update_time: now,
      })
      .where('id', '=', importId)
      .execute();
    return previous?.id;
  }

  /** Deletes an import and its rows (a retired one, or a load that failed or was not needed). */
  async drop(importId: number): Promise<void> {
    await this.db.deleteFrom('vuln_affected').where('import_id', '=', importId).execute();
    await this.db.deleteFrom('vuln_advisory').where('import_id', '=', importId).execute();
    await this.db.deleteFrom('vuln_db_import').where('id', '=', importId).execute();
  }

  /** Imports left `loading` or `retired` (by an importer that died, or before the last activation). */
  async stale(): Promise<number[]> {
    const rows = await this.db
      .selectFrom('vuln_db_import')
      .select('id')
      .where('state', '!=', 'active')
      .execute();
    return rows.map((r) => r.id);
  }

  async active(): Promise<VulnImportRow | undefined> {
    const row = await this.db
      .selectFrom('vuln_db_import')
      .selectAll()
      .where('state', '=', 'active')
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        state: row.state,
        version: row.version,
        source: row.source,
        recordCount: row.record_count,
        skippedCount: row.skipped_count,
        importTime: row.import_time,
      }
    );
  }

  async affected(importId: number, ecosystem: string, names: string[]): Promise<AffectedRow[]> {
    const out: AffectedRow[] = [];
    for (let i = 0; i < names.length; i += READ_BATCH) {
      const rows = await this.db
        .selectFrom('vuln_affected')
        .select(['vuln_id', 'ecosystem', 'name', 'ranges', 'versions', 'severity', 'cvss'])
        .where('import_id', '=', importId)
        .where('ecosystem', '=', ecosystem)
        .where('name', 'in', names.slice(i, i + READ_BATCH))
        .execute();
      for (const r of rows)
        out.push({
          vulnId: r.vuln_id,
          ecosystem: r.ecosystem,
          name: r.name,
          ranges: JSON.parse(r.ranges) as AffectedRow['ranges'],
          versions: JSON.parse(r.versions) as string[],
          severity: r.severity,
          cvss: JSON.parse(r.cvss) as unknown,
        });
    }
    return out;
  }

  async advisories(importId: number, ids: string[]): Promise<AdvisoryRow[]> {
    const out: AdvisoryRow[] = [];
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const rows = await this.db
        .selectFrom('vuln_advisory')
        .selectAll()
        .where('import_id', '=', importId)
        .where('id', 'in', ids.slice(i, i + READ_BATCH))
        .execute();
      for (const r of rows)
        out.push({
          id: r.id,
          aliases: JSON.parse(r.aliases) as string[],
          summary: r.summary,
          details: r.details,
          links: JSON.parse(r.links) as string[],
          cweIds: JSON.parse(r.cwe_ids) as string[],
          modified: r.modified,
        });
    }
    return out;
  }

  /** Counts of an import's rows (for tests and the import's summary). */
  async counts(importId: number): Promise<{ advisories: number; affected: number }> {
    const [a, e] = await Promise.all([
      this.db
        .selectFrom('vuln_advisory')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('import_id', '=', importId)
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('vuln_affected')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('import_id', '=', importId)
        .executeTakeFirstOrThrow(),
    ]);
    return { advisories: Number(a.n), affected: Number(e.n) };
  }
}
