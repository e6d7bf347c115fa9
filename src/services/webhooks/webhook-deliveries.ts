import { executionStatusOfJob } from '../../db/repos/executions.js';
import type { DeliveryRow } from '../../db/repos/notification-policies.js';
import type { MetaStore } from '../../db/store.js';
import type { JobRow, JobStatus } from '../../db/tables.js';
import { jobLogText } from '../../jobs/queue.js';
import { rfc3339 } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import type { WebhookPolicy } from './webhook-policies.js';

/** Harbor's task status words for job statuses (a delivery's execution reads Running until it ends). */
const taskStatus = executionStatusOfJob;

/** The job statuses a Harbor execution status filter (`status=Success`) stands for. */
const statusFilter: Record<string, JobStatus[]> = {
  Pending: ['pending'],
  Running: ['pending', 'running'],
  Success: ['succeeded'],
  Error: ['failed'],
  Stopped: ['stopped'],
};

function executionStatus(s: JobStatus | null): string {
  if (s === 'succeeded') return 'Success';
  if (s === 'failed') return 'Error';
  if (s === 'stopped') return 'Stopped';
  return 'Running';
}

/** Harbor's Execution of a delivery. */
export function executionView(row: DeliveryRow) {
  const s = row.job_status;
  const count = (want: JobStatus) => (s === want ? 1 : 0);
  const ended = s === 'succeeded' || s === 'failed' || s === 'stopped';
  return {
    end_time: rfc3339(ended ? (row.job_end_time ?? row.job_update_time) : null),
    extra_attrs: JSON.parse(row.extra_attrs) as Record<string, unknown>,
    id: row.id,
    metrics: {
      error_task_count: count('failed'),
      pending_task_count: count('pending'),
      running_task_count: count('running'),
      scheduled_task_count: 0,
      stopped_task_count: count('stopped'),
      success_task_count: count('succeeded'),
      task_count: row.job_id === null ? 0 : 1,
    },
    start_time: rfc3339(row.start_time),
    status: executionStatus(s),
    status_message: s === 'failed' ? (row.job_error ?? '') : '',
    trigger: row.trigger,
    vendor_id: row.vendor_id,
    vendor_type: row.vendor_type,
  };
}

/** Harbor's Task of a delivery. */
export function taskView(job: JobRow) {
  return {
    creation_time: rfc3339(job.creation_time),
    end_time: rfc3339(job.end_time),
    execution_id: job.execution_id!,
    extra_attrs: {},
    id: job.id,
    run_count: job.attempts,
    start_time: rfc3339(job.start_time),
    status: taskStatus[job.status],
    status_message: job.status === 'failed' ? (job.last_error ?? '') : '',
    update_time: rfc3339(job.update_time),
  };
}

/** Harbor's deprecated WebhookJob: a delivery seen as one job. */
export function webhookJobView(row: DeliveryRow) {
  const attrs = JSON.parse(row.extra_attrs) as { event_type?: string; payload?: string };
  return {
    creation_time: row.start_time,
    event_type: attrs.event_type ?? '',
    id: row.id,
    job_detail: attrs.payload ?? '',
    notify_type: row.vendor_type === 'SLACK' ? 'slack' : 'http',
    policy_id: row.vendor_id,
    status: executionStatus(row.job_status),
    update_time: row.job_update_time ?? row.update_time,
  };
}

/** Executions, tasks and logs of webhook policies, and their last trigger per event type. */
export class WebhookDeliveries {
  constructor(private readonly d: { store: Pick<MetaStore, 'notificationPolicies' | 'jobs'> }) {}

  async executions(
    policy: WebhookPolicy,
    query: ListQuery,
    status?: readonly string[],
  ): Promise<Page<DeliveryRow>> {
    const statuses = status?.length ? status.flatMap((s) => statusFilter[s] ?? []) : undefined;
    if (statuses && statuses.length === 0) return { total: 0, items: [] };
    return this.d.store.notificationPolicies.listDeliveries(policy.id, query, statuses);
  }

  async tasks(policy: WebhookPolicy, executionId: number, query: ListQuery): Promise<Page<JobRow>> {
    await this.execution(policy, executionId);
    const all = await this.d.store.notificationPolicies.deliveryTasks(executionId);
    const start = (query.page - 1) * query.pageSize;
    return { total: all.length, items: all.slice(start, start + query.pageSize) };
  }

  async log(policy: WebhookPolicy, executionId: number, taskId: number): Promise<string> {
    const row = await this.execution(policy, executionId);
    // A delivery recorded as its execution alone: its one task has the execution's id and its log text.
    if (row.task_log !== null && row.job_id === row.id && taskId === row.id) return row.task_log;
    const job = await this.d.store.jobs.find(taskId);
    if (!job || job.kind !== 'webhook.deliver')
      throw new AppError('NOT_FOUND', `webhook task ${taskId} not found`);
    if (job.execution_id !== executionId)
      throw new AppError('NOT_FOUND', `task ${taskId} not found in execution ${executionId}`);
    return jobLogText(this.d.store, job);
  }

  /** Harbor's WebhookLastTrigger rows: one per policy and event type. */
  async lastTriggers(policies: WebhookPolicy[]) {
    const out = [];
    for (const p of policies)
      for (const t of p.eventTypes) {
        const last = await this.d.store.notificationPolicies.lastTrigger(p.id, t);
        out.push({
          policy_name: p.name,
          event_type: t,
          enabled: p.enabled,
          creation_time: p.creationTime,
          last_trigger_time: last ?? '0001-01-01T00:00:00.000Z',
        });
      }
    return out;
  }

  private async execution(policy: WebhookPolicy, executionId: number): Promise<DeliveryRow> {
    const row = await this.d.store.notificationPolicies.findDelivery(executionId);
    if (!row) throw new AppError('NOT_FOUND', `execution ${executionId} not found`);
    if (row.vendor_id !== policy.id)
      throw new AppError('NOT_FOUND', `execution ${executionId} not found in policy ${policy.id}`);
    return row;
  }
}
