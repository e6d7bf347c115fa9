import type { ExpressionBuilder, Kysely } from 'kysely';
import type { ListQuery } from '../../lib/query.js';
import type { AuditLogRow, Database, NewAuditLog } from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

/** `q` keys and sorts of audit log lists (Harbor's AuditLog fields). */
export const auditFields: FieldMap = {
  operation: { column: 'operation', type: 'string' },
  resource: { column: 'resource', type: 'string' },
  resource_type: { column: 'resource_type', type: 'string' },
  username: { column: 'username', type: 'string' },
  op_time: { column: 'op_time', type: 'time' },
  id: { column: 'id', type: 'int' },
};

/** Which rows a list may show: everything, or the rows of these projects only. */
export type AuditScope = 'all' | { projectIds: readonly number[] };

/** Rows a purge removes: older than `before`, of the listed event types, or of every type but `otherThan`. */
export interface AuditPurgeFilter {
  before: string;
  include: readonly { operation: string; resourceType: string }[];
  /** Harbor's `other`: every event type except these. */
  otherThan?: readonly { operation: string; resourceType: string }[];
}

function purgeable(eb: ExpressionBuilder<Database, 'audit_log'>, f: AuditPurgeFilter) {
  const pair = (e: { operation: string; resourceType: string }) =>
    eb.and([eb('operation', '=', e.operation), eb('resource_type', '=', e.resourceType)]);
  const types = f.include.map(pair);
  if (f.otherThan) types.push(eb.not(eb.or(f.otherThan.map(pair))));
  return eb.and([eb('op_time', '<', f.before), eb.or(types)]);
}

export class AuditRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insertMany(rows: readonly NewAuditLog[]): Promise<void> {
    if (rows.length > 0)
      await this.db
        .insertInto('audit_log')
        .values([...rows])
        .execute();
  }

  /**
   * Deletes up to `limit` of the oldest rows the filter selects, in one statement: a short transaction that
   * locks only the rows it deletes, so live requests keep inserting while a purge runs.
   */
  async purgeBatch(filter: AuditPurgeFilter, limit: number): Promise<number> {
    if (filter.include.length === 0 && !filter.otherThan) return 0;
    const res = await this.db
      .deleteFrom('audit_log')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('audit_log')
          .select('id')
          .where((w) => purgeable(w, filter))
          .orderBy('id')
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** How many rows a purge with this filter would delete (dry run). */
  async countPurgeable(filter: AuditPurgeFilter): Promise<number> {
    if (filter.include.length === 0 && !filter.otherThan) return 0;
    const row = await this.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where((w) => purgeable(w, filter))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Filtered by `q`, newest first unless sorted otherwise. */
  async list(scope: AuditScope, query: ListQuery): Promise<{ rows: AuditLogRow[]; total: number }> {
    if (scope !== 'all' && scope.projectIds.length === 0) return { rows: [], total: 0 };
    let base = this.db.selectFrom('audit_log');
    if (scope !== 'all') base = base.where('project_id', 'in', [...scope.projectIds]);
    base = applyKeywords(base, auditFields, query.keywords);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const ordered =
      query.sorts.length > 0
        ? applySorts(base.selectAll(), auditFields, query.sorts, [], 'id')
        : base.selectAll().orderBy('op_time', 'desc').orderBy('id', 'desc');
    const rows = await ordered
      .offset((query.page - 1) * query.pageSize)
      .limit(query.pageSize)
      .execute();
    return { rows, total: Number(total.n) };
  }
}
