import type { Kysely } from 'kysely';
import type { AuditLogRow, Database, NewAuditLog } from '../tables.js';

export interface AuditQuery {
  projectId?: number;
  operation?: string;
  resourceType?: string;
  /** Substring of the resource. */
  resource?: string;
  username?: string;
  /** Inclusive ISO-8601 bounds on op_time. */
  from?: string;
  to?: string;
  offset: number;
  limit: number;
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

  /** Newest first. */
  async list(q: AuditQuery): Promise<{ rows: AuditLogRow[]; total: number }> {
    let base = this.db.selectFrom('audit_log');
    if (q.projectId !== undefined) base = base.where('project_id', '=', q.projectId);
    if (q.operation) base = base.where('operation', '=', q.operation);
    if (q.resourceType) base = base.where('resource_type', '=', q.resourceType);
    if (q.username) base = base.where('username', '=', q.username);
    if (q.resource)
      base = base.where('resource', 'like', `%${q.resource.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (q.from) base = base.where('op_time', '>=', q.from);
    if (q.to) base = base.where('op_time', '<=', q.to);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll()
      .orderBy('op_time', 'desc')
      .orderBy('id', 'desc')
      .offset(q.offset)
      .limit(q.limit)
      .execute();
    return { rows, total: Number(total.n) };
  }
}
