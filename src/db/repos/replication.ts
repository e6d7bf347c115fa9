import { ExecutionRepo, type TaskCounts } from './executions.js';
import { uncached, type CachedReads } from '../read-cache.js';
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

export type { TaskCounts };

/** `q` keys and sorts of the replication policy list (ordered by id unless sorted). */
export const policyFields: FieldMap = {
  name: { column: 'name', type: 'string' },
  id: { column: 'id', type: 'int', filter: false },
  creation_time: { column: 'creation_time', type: 'time', filter: false },
  update_time: { column: 'update_time', type: 'time', filter: false },
};

/** Replication policies, and their executions with the task jobs under them. */
export class ReplicationRepo {
  private readonly executions: ExecutionRepo;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: CachedReads = uncached,
  ) {
    this.executions = new ExecutionRepo(db, replicationVendor);
  }

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
    return this.reads.get('replication:event-based', () =>
      this.db
        .selectFrom('replication_policy')
        .selectAll()
        .where('enabled', '=', 1)
        .where('src_registry_id', 'is', null)
        .where('trigger', 'like', '%"event_based"%')
        .orderBy('id')
        .execute(),
    );
  }

  async updatePolicy(id: number, values: Updateable<ReplicationPolicyTable>): Promise<void> {
    await this.db.updateTable('replication_policy').set(values).where('id', '=', id).execute();
  }

  async deletePolicy(id: number): Promise<void> {
    await this.executions.deleteByVendorId(id);
    await this.db.deleteFrom('replication_policy').where('id', '=', id).execute();
  }

  createExecution(policyId: number, trigger: string, now: string): Promise<ExecutionRow> {
    return this.executions.create(policyId, trigger, now);
  }

  findExecution(id: number): Promise<ExecutionRow | undefined> {
    return this.executions.find(id);
  }

  listExecutions(opts: {
    policyId?: number;
    trigger?: string;
    offset: number;
    limit: number;
  }): Promise<{ rows: ExecutionRow[]; total: number }> {
    const { policyId, ...rest } = opts;
    return this.executions.list({ ...rest, ...(policyId === undefined ? {} : { vendorId: policyId }) });
  }

  setExecution(
    id: number,
    values: { status?: string; status_message?: string; end_time?: string | null },
    now: string,
  ): Promise<void> {
    return this.executions.set(id, values, now);
  }

  /** Task counts by job status, per execution. */
  taskCounts(executionIds: number[]): Promise<Map<number, TaskCounts>> {
    return this.executions.taskCounts(executionIds);
  }

  /** The latest end time among an execution's tasks. */
  lastTaskEnd(executionId: number): Promise<string | null> {
    return this.executions.lastTaskEnd(executionId);
  }

  listTasks(
    executionId: number,
    opts: { offset: number; limit: number; status?: JobStatus },
  ): Promise<{ rows: JobRow[]; total: number }> {
    return this.executions.listTasks(executionId, opts);
  }

  /** Ids of the execution's tasks that have not ended. */
  openTasks(executionId: number): Promise<number[]> {
    return this.executions.openTasks(executionId);
  }
}
