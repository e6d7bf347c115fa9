import type { MetaStore } from '../../db/store.js';
import type { ExecutionRow, JobRow, JobStatus } from '../../db/tables.js';
import type { TaskCounts } from '../../db/repos/replication.js';
import { jobLogText } from '../../jobs/queue.js';
import { AppError } from '../../lib/errors.js';
import { replicationTaskPayload } from '../../jobs/kinds/replication.js';

/** Harbor's replication status words for job statuses. */
export const taskStatus: Record<JobStatus, string> = {
  pending: 'Pending',
  running: 'InProgress',
  succeeded: 'Succeed',
  failed: 'Failed',
  stopped: 'Stopped',
};

export interface ExecutionView {
  id: number;
  policy_id: number;
  status: string;
  trigger: string;
  start_time: string;
  /** Harbor's zero time while the execution runs (its swagger declares a string, never null). */
  end_time: string;
  status_text: string;
  total: number;
  failed: number;
  succeed: number;
  in_progress: number;
  stopped: number;
}

/** Executions and tasks as Harbor's API shows them, derived from the execution row and its task jobs. */
export class ExecutionViews {
  constructor(private readonly d: { store: Pick<MetaStore, 'jobs' | 'replication'> }) {}

  async list(opts: { policyId?: number; trigger?: string; offset: number; limit: number }) {
    const { rows, total } = await this.d.store.replication.listExecutions(opts);
    const counts = await this.d.store.replication.taskCounts(rows.map((r) => r.id));
    return { total, items: await Promise.all(rows.map((r) => this.view(r, counts.get(r.id)!))) };
  }

  async get(id: number): Promise<ExecutionView> {
    const row = await this.d.store.replication.findExecution(id);
    if (!row) throw new AppError('NOT_FOUND', `replication execution ${id} not found`);
    const counts = await this.d.store.replication.taskCounts([id]);
    return this.view(row, counts.get(id)!);
  }

  async tasks(executionId: number, opts: { offset: number; limit: number; status?: JobStatus }) {
    await this.get(executionId);
    const { rows, total } = await this.d.store.replication.listTasks(executionId, opts);
    return { total, items: rows.map(taskView) };
  }

  /** The task's log as text, one `time line` per line. */
  async taskLog(executionId: number, taskId: number): Promise<string> {
    const job = await this.d.store.jobs.find(taskId);
    if (!job || job.execution_id !== executionId) {
      throw new AppError('NOT_FOUND', `task ${taskId} of replication execution ${executionId} not found`);
    }
    return jobLogText(this.d.store, job);
  }

  private async view(row: ExecutionRow, c: TaskCounts): Promise<ExecutionView> {
    const total = c.pending + c.running + c.succeeded + c.failed + c.stopped;
    const open = c.pending + c.running;
    let status: string;
    if (row.status === 'Failed') status = 'Failed';
    else if (open > 0 || row.status === 'InProgress')
      status = 'InProgress'; // InProgress row: planning
    else if (row.status === 'Stopped' || c.stopped > 0) status = 'Stopped';
    else if (c.failed > 0) status = 'Failed';
    else status = 'Succeed';
    let text = row.status_message;
    let end: string | null = row.end_time;
    if (status !== 'InProgress' && total > 0) {
      end = (await this.d.store.replication.lastTaskEnd(row.id)) ?? row.end_time;
      if (c.failed > 0) {
        const failed = await this.d.store.replication.listTasks(row.id, {
          offset: 0,
          limit: 1,
          status: 'failed',
        });
        const first = failed.rows[0];
        text = `${c.failed} of ${total} task(s) failed${first?.last_error ? `; first failure: ${first.last_error}` : ''}`;
      }
    }
    if (status === 'InProgress') end = null;
    return {
      id: row.id,
      policy_id: row.vendor_id,
      status,
      trigger: row.trigger,
      start_time: row.start_time,
      end_time: end ?? '0001-01-01T00:00:00.000Z',
      status_text: text,
      total,
      failed: c.failed,
      succeed: c.succeeded,
      in_progress: open,
      stopped: c.stopped,
    };
  }
}

export function taskView(job: JobRow) {
  const p = replicationTaskPayload.parse(JSON.parse(job.payload));
  const ref = p.tags.length > 0 ? `:${p.tags.join(',')}` : `@${p.reference}`;
  return {
    id: job.id,
    execution_id: job.execution_id!,
    status: taskStatus[job.status],
    job_id: String(job.id),
    operation: p.operation,
    resource_type: p.resourceType,
    src_resource: `${p.srcRepository}${p.operation === 'deletion' ? `@${p.reference}` : ref}`,
    dst_resource: `${p.dstRepository}${p.operation === 'deletion' ? `@${p.reference}` : ref}`,
    start_time: job.start_time,
    end_time: job.end_time,
  };
}
