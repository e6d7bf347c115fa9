import type { Insertable, Kysely, Updateable } from 'kysely';
import { offsetOf, type ListQuery, type Page } from '../../lib/query.js';
import type {
  Database,
  ExecutionRow,
  JobRow,
  JobStatus,
  ReplicationPolicyRow,
  ReplicationPolicyTable,
} from '../tables.js';
import { applyKeywords, applySorts, type FieldMap } from './list-filter.js';

export const replicationVendor = 'REPLICATION';

export type TaskCounts = Record<JobStatus, number>;

/** `q` keys and sorts of the replication policy list (ordered by id unless sorted). */
export const policyFields: FieldMap = {
  name: { column: 'name', type: 'string' },
  id: { column: 'id', type: 'int', filter: false },
  creation_time: { column: 'creation_time', type: 'time', filter: false },
  update_time: { column: 'update_time', type: 'time', filter: false },
};

/** Replication policies, and their executions with the task jobs under them. */
export class ReplicationRepo {
  constructor(private readonly db: Kysely<Database>) {}

  createPolicy(row: Insertable<ReplicationPolicyTable>): Promise<ReplicationPolicyRow> {
    return this.db.insertInto('replication_policy').values(row).returningAll().executeTakeFirstOrThrow();
  }

  findPolicy(id: number): Promise<ReplicationPolicyRow | undefined> {
    return this.db.selectFrom('replication_policy').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findPolicyByName(name: string): Promise<ReplicationPolicyRow | undefined> {
    return this.db.selectFrom('replication_policy').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async listPolicies(query: ListQuery): Promise<Page<ReplicationPolicyRow>> {
    const base = applyKeywords(this.db.selectFrom('replication_policy'), policyFields, query.keywords);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const items = await applySorts(base.selectAll(), policyFields, query.sorts, [], 'id')
      .offset(offsetOf(query))
      .limit(query.pageSize)
      .execute();
    return { items, total: Number(total.n) };
  }

  /** Enabled push policies (local source) with an event-based trigger. */
  eventPolicies(): Promise<ReplicationPolicyRow[]> {
    return this.db
      .selectFrom('replication_policy')
      .selectAll()
      .where('enabled', '=', 1)
      .where('src_registry_id', 'is', null)
      .where('trigger', 'like', '%"event_based"%')
      .orderBy('id')
      .execute();
  }

  async updatePolicy(id: number, values: Updateable<ReplicationPolicyTable>): Promise<void> {
    await this.db.updateTable('replication_policy').set(values).where('id', '=', id).execute();
  }

  async deletePolicy(id: number): Promise<void> {
    await this.db
      .deleteFrom('execution')
      .where('vendor_type', '=', replicationVendor)
      .where('vendor_id', '=', id)
      .execute();
    await this.db.deleteFrom('replication_policy').where('id', '=', id).execute();
  }

  createExecution(policyId: number, trigger: string, now: string): Promise<ExecutionRow> {
    return this.db
      .insertInto('execution')
      .values({
        vendor_type: replicationVendor,
        vendor_id: policyId,
        trigger,
        status: 'InProgress',
        status_message: '',
        extra_attrs: '{}',
        start_time: now,
        update_time: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  findExecution(id: number): Promise<ExecutionRow | undefined> {
    return this.db
      .selectFrom('execution')
      .selectAll()
      .where('id', '=', id)
      .where('vendor_type', '=', replicationVendor)
      .executeTakeFirst();
  }

  async listExecutions(opts: {
    policyId?: number;
    trigger?: string;
    offset: number;
    limit: number;
  }): Promise<{ rows: ExecutionRow[]; total: number }> {
    let q = this.db.selectFrom('execution').where('vendor_type', '=', replicationVendor);
    if (opts.policyId !== undefined) q = q.where('vendor_id', '=', opts.policyId);
    if (opts.trigger !== undefined) q = q.where('trigger', '=', opts.trigger);
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id', 'desc').offset(opts.offset).limit(opts.limit).execute();
    return { rows, total: Number(total.n) };
  }

  async setExecution(
    id: number,
    values: { status?: string; status_message?: string; end_time?: string | null },
    now: string,
  ): Promise<void> {
    await this.db
      .updateTable('execution')
      .set({ ...values, update_time: now })
      .where('id', '=', id)
      .execute();
  }

  /** Task counts by job status, per execution. */
  async taskCounts(executionIds: number[]): Promise<Map<number, TaskCounts>> {
    const out = new Map<number, TaskCounts>();
    if (executionIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('job')
      .select(['execution_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('execution_id', 'in', executionIds)
      .groupBy(['execution_id', 'status'])
      .execute();
    for (const id of executionIds)
      out.set(id, { pending: 0, running: 0, succeeded: 0, failed: 0, stopped: 0 });
    for (const r of rows) out.get(r.execution_id!)![r.status] = Number(r.n);
    return out;
  }

  /** The latest end time among an execution's tasks. */
  async lastTaskEnd(executionId: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('job')
      .select((eb) => eb.fn.max('end_time').as('t'))
      .where('execution_id', '=', executionId)
      .executeTakeFirst();
    return (row?.t as string | null | undefined) ?? null;
  }

  async listTasks(
    executionId: number,
    opts: { offset: number; limit: number; status?: JobStatus },
  ): Promise<{ rows: JobRow[]; total: number }> {
    let q = this.db.selectFrom('job').where('execution_id', '=', executionId);
    if (opts.status) q = q.where('status', '=', opts.status);
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id').offset(opts.offset).limit(opts.limit).execute();
    return { rows, total: Number(total.n) };
  }

  /** Ids of the execution's tasks that have not ended. */
  async openTasks(executionId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('job')
      .select('id')
      .where('execution_id', '=', executionId)
      .where('status', 'in', ['pending', 'running'])
      .execute();
    return rows.map((r) => r.id);
  }
}
