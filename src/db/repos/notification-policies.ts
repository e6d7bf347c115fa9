import type { Kysely } from 'kysely';
import { uncached, type CachedReads } from '../read-cache.js';
import type { ListQuery, Page } from '../../lib/query.js';
import { offsetOf } from '../../lib/query.js';
import type { Database, ExecutionRow, JobRow, JobStatus, NotificationPolicyRow } from '../tables.js';
import { applyKeywords, applySorts, windowTotal, type FieldMap } from './list-filter.js';

export const notificationPolicyFields: FieldMap = {
  id: { column: 'notification_policy.id', type: 'int' },
  name: { column: 'notification_policy.name', type: 'string' },
  enabled: { column: 'notification_policy.enabled', type: 'bool' },
  creator: { column: 'notification_policy.creator', type: 'string' },
  creation_time: { column: 'notification_policy.creation_time', type: 'time' },
  update_time: { column: 'notification_policy.update_time', type: 'time' },
};

export const webhookExecutionFields: FieldMap = {
  id: { column: 'execution.id', type: 'int' },
  trigger: { column: 'execution.trigger', type: 'string' },
  start_time: { column: 'execution.start_time', type: 'time' },
  update_time: { column: 'execution.update_time', type: 'time' },
};

/** Harbor's execution vendor types of webhook deliveries: `http` targets are WEBHOOK, `slack` ones SLACK. */
export const webhookVendors = ['WEBHOOK', 'SLACK'] as const;

export interface NotificationPolicyValues {
  name: string;
  description: string;
  /** JSON text. */
  targets: string;
  /** JSON text. */
  eventTypes: string;
  enabled: boolean;
}

/** A delivery: its execution row with the job that carries it (one task per execution, as in Harbor). */
export interface DeliveryRow extends ExecutionRow {
  job_id: number | null;
  job_status: JobStatus | null;
  job_end_time: string | null;
  job_update_time: string | null;
  job_error: string | null;
}

/** Webhook policies of projects, and their deliveries (executions of vendor WEBHOOK or SLACK). */
export class NotificationPolicyRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: CachedReads = uncached,
  ) {}

  async list(projectId: number, query: ListQuery): Promise<Page<NotificationPolicyRow>> {
    const base = applyKeywords(
      this.db.selectFrom('notification_policy').where('project_id', '=', projectId),
      notificationPolicyFields,
      query.keywords,
    );
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const items = await applySorts(
      base.selectAll(),
      notificationPolicyFields,
      query.sorts,
      [{ key: 'creation_time', desc: true }],
      'notification_policy.id',
    )
      .limit(query.pageSize)
      .offset(offsetOf(query))
      .execute();
    return { total: Number(total.n), items };
  }

  ofProject(projectId: number): Promise<NotificationPolicyRow[]> {
    return this.db
      .selectFrom('notification_policy')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('id')
      .execute();
  }

  /** Enabled policies of the project; the caller picks those subscribed to its event type. */
  enabledOf(projectId: number): Promise<NotificationPolicyRow[]> {
    return this.reads.get(`webhook:${projectId}`, () =>
      this.db
        .selectFrom('notification_policy')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('enabled', '=', 1)
        .orderBy('id')
        .execute(),
    );
  }

  byId(id: number): Promise<NotificationPolicyRow | undefined> {
    return this.db.selectFrom('notification_policy').selectAll().where('id', '=', id).executeTakeFirst();
  }

  byName(projectId: number, name: string): Promise<NotificationPolicyRow | undefined> {
    return this.db
      .selectFrom('notification_policy')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async create(
    projectId: number,
    v: NotificationPolicyValues,
    creator: string,
    now: string,
  ): Promise<number> {
    const row = await this.db
      .insertInto('notification_policy')
      .values({
        project_id: projectId,
        ...columns(v),
        creator,
        creation_time: now,
        update_time: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async update(id: number, v: NotificationPolicyValues, now: string): Promise<void> {
    await this.db
      .updateTable('notification_policy')
      .set({ ...columns(v), update_time: now })
      .where('id', '=', id)
      .execute();
  }

  /** Removes the policy and its deliveries (their jobs stay as orphans the job dashboard still shows). */
  async delete(id: number): Promise<void> {
    await this.db
      .deleteFrom('execution')
      .where('vendor_type', 'in', [...webhookVendors])
      .where('vendor_id', '=', id)
      .execute();
    await this.db.deleteFrom('notification_policy').where('id', '=', id).execute();
  }

  private deliveries() {
    return this.db
      .selectFrom('execution')
      .leftJoin('job', 'job.execution_id', 'execution.id')
      .selectAll('execution')
      .select([
        'job.id as job_id',
        'job.status as job_status',
        'job.end_time as job_end_time',
        'job.update_time as job_update_time',
        'job.last_error as job_error',
      ])
      .where('execution.vendor_type', 'in', [...webhookVendors]);
  }

  /** The policy's deliveries, newest first unless sorted otherwise. */
  async listDeliveries(
    policyId: number,
    query: ListQuery,
    statuses?: readonly JobStatus[],
  ): Promise<Page<DeliveryRow>> {
    let base = applyKeywords(
      this.db
        .selectFrom('execution')
        .leftJoin('job', 'job.execution_id', 'execution.id')
        .where('execution.vendor_type', 'in', [...webhookVendors])
        .where('execution.vendor_id', '=', policyId),
      webhookExecutionFields,
      query.keywords,
    );
    if (statuses) {
      // A delivery recorded as its execution alone (migration 0022) has no job: its status is its own.
      const inline = statuses.flatMap((x) => (x in inlineStatus ? [inlineStatus[x]!] : []));
      base = base.where((w) =>
        w.or([
          w('job.status', 'in', [...statuses]),
          ...(inline.length > 0
            ? [
                w.and([
                  w('job.id', 'is', null),
                  w('execution.task_log', 'is not', null),
                  w('execution.status', 'in', inline),
                ]),
              ]
            : []),
        ]),
      );
    }
    // The page and its total from one statement: a count and a list read apart showed 9 rows under a
    // total of 6 while deliveries were being recorded.
    const ids = await applySorts(
      base.select((eb) => ['execution.id', eb.fn.countAll<number>().over().as('total_rows')]),
      webhookExecutionFields,
      query.sorts,
      [{ key: 'id', desc: true }],
      'execution.id',
    )
      .limit(query.pageSize)
      .offset(offsetOf(query))
      .execute();
    const total = await windowTotal(ids, offsetOf(query), async () => {
      const c = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return c.n;
    });
    if (ids.length === 0) return { total, items: [] };
    const rows = await this.deliveries()
      .where(
        'execution.id',
        'in',
        ids.map((r) => r.id),
      )
      .execute();
    const byId = new Map(rows.map((r) => [r.id, withInlineTask(r)]));
    return { total, items: ids.map((r) => byId.get(r.id)!) };
  }

  async findDelivery(executionId: number): Promise<DeliveryRow | undefined> {
    const row = await this.deliveries().where('execution.id', '=', executionId).executeTakeFirst();
    return row && withInlineTask(row);
  }

  /**
   * The task of a delivery: its job, or for a delivery recorded as its execution alone (migration 0022)
   * the task that row carries, as the job it stands for (its id is the execution's).
   */
  async deliveryTasks(executionId: number): Promise<JobRow[]> {
    const jobs = await this.db
      .selectFrom('job')
      .selectAll()
      .where('execution_id', '=', executionId)
      .orderBy('id')
      .execute();
    if (jobs.length > 0) return jobs;
    const row = await this.db
      .selectFrom('execution')
      .selectAll()
      .where('id', '=', executionId)
      .where('vendor_type', 'in', [...webhookVendors])
      .where('task_log', 'is not', null)
      .executeTakeFirst();
    return row ? [inlineTask(row)] : [];
  }

  /**
   * When the policy last fired for the event type. Delivery attributes are written with `event_type`
   * first, so a prefix match finds them exactly.
   */
  async lastTrigger(policyId: number, eventType: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('execution')
      .select((eb) => eb.fn.max('start_time').as('t'))
      .where('vendor_type', 'in', [...webhookVendors])
      .where('vendor_id', '=', policyId)
      .where('extra_attrs', 'like', `{"event_type":"${eventType}",%`)
      .executeTakeFirst();
    return (row?.t as string | null | undefined) ?? null;
  }
}

/** Execution status words of a delivery recorded as its execution alone, for the job statuses. */
const inlineStatus: Partial<Record<JobStatus, string>> = { succeeded: 'Success', failed: 'Error' };

/** A delivery's row: one recorded as its execution alone answers as if its task were a job. */
function withInlineTask(row: DeliveryRow): DeliveryRow {
  if (row.job_id !== null || row.task_log === null) return row;
  const t = inlineTask(row);
  return {
    ...row,
    job_id: t.id,
    job_status: t.status,
    job_end_time: t.end_time,
    job_update_time: t.update_time,
    job_error: t.last_error,
  };
}

/**
 * The task an execution carries (migration 0022): the `webhook.deliver` job it would have been, ended at
 * its first try, with the execution's id. `payload` is left empty: no API shows it.
 */
export function inlineTask(row: ExecutionRow): JobRow {
  const failed = row.status === 'Error';
  return {
    id: row.id,
    kind: 'webhook.deliver',
    payload: '{}',
    status: failed ? 'failed' : 'succeeded',
    attempts: 1,
    max_attempts: 1,
    run_after: row.start_time,
    lease_owner: null,
    lease_until: null,
    heartbeat_time: null,
    stop_requested: 0,
    execution_id: row.id,
    last_error: failed ? row.status_message : null,
    creation_time: row.start_time,
    start_time: row.task_start_time,
    end_time: row.end_time,
    update_time: row.update_time,
    group_key: null,
  };
}

function columns(v: NotificationPolicyValues) {
  return {
    name: v.name,
    description: v.description,
    targets: v.targets,
    event_types: v.eventTypes,
    enabled: v.enabled ? 1 : 0,
  };
}
