import type { Kysely } from 'kysely';
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

export class AuditRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insertMany(rows: readonly NewAuditLog[]): Promise<void> {
    if (rows.length > 0)
      await this.db
        .insertInto('audit_log')
        .values([...rows])
        .execute();
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
