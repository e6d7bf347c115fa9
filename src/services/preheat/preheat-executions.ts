import { executionStatusOfJob, type TaskCounts } from '../../db/repos/executions.js';
import type { MetaStore } from '../../db/store.js';
import type { ExecutionRow, JobRow, JobStatus } from '../../db/tables.js';
import { preheatTaskPayload } from '../../jobs/kinds/preheat.js';
import { jobLogText, type JobQueue } from '../../jobs/queue.js';
import { rfc3339, type Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery } from '../../lib/query.js';
import { offsetOf } from '../../lib/query.js';

/** Harbor's task status words (pkg/task) for job statuses. */
const taskStatus = executionStatusOfJob;
const jobStatusOf = new Map(Object.entries(taskStatus).map(([job, word]) => [word, job as JobStatus]));

type Store = Pick<MetaStore, 'executions' | 'jobs' | 'preheatPolicies' | 'transaction'>;

/** A policy of a project, by name. */
export interface PolicyRef {
  projectId: number;
  policy: string;
}

/** A preheat policy's executions and tasks as Harbor's API shows them, and stopping one. */
export class PreheatExecutions {
  constructor(private readonly d: { store: Store; clock: Clock; queue: JobQueue }) {}

  private get repo() {
    return this.d.store.executions('P2P_PREHEAT');
  }

  async list(ref: PolicyRef, query: ListQuery) {
    const policyId = await this.policyId(ref);
    const trigger = query.keywords.trigger;
    const { rows, total } = await this.repo.list({
      vendorId: policyId,
      ...(trigger?.kind === 'exact' ? { trigger: trigger.value } : {}),
      offset: offsetOf(query),
      limit: query.pageSize,
    });
    const counts = await this.repo.taskCounts(rows.map((r) => r.id));
    return { total, items: await Promise.all(rows.map((r) => this.view(r, counts.get(r.id)!))) };
  }

  async get(ref: PolicyRef, executionId: number) {
    const row = await this.execution(ref, executionId);
    return this.view(row, (await this.repo.taskCounts([row.id])).get(row.id)!);
  }

  async tasks(ref: PolicyRef, executionId: number, query: ListQuery) {
    await this.execution(ref, executionId);
    const status = query.keywords.status;
    const wanted = status?.kind === 'exact' ? jobStatusOf.get(status.value) : undefined;
    if (status && !wanted) return { total: 0, items: [] };
    const { rows, total } = await this.repo.listTasks(executionId, {
      offset: offsetOf(query),
      limit: query.pageSize,
      ...(wanted ? { status: wanted } : {}),
    });
    return { total, items: rows.map(taskView) };
  }

  async taskLog(ref: PolicyRef, executionId: number, taskId: number): Promise<string> {
    await this.execution(ref, executionId);
    const job = await this.d.store.jobs.find(taskId);
    if (!job || job.execution_id !== executionId)
      throw new AppError('NOT_FOUND', `execution id ${executionId}, task id ${taskId} not found`);
    return jobLogText(this.d.store, job);
  }

  /** Harbor's StopExecution: the execution reads Stopped once its open tasks have stopped. */
  async stop(ref: PolicyRef, executionId: number, status: string): Promise<void> {
    const row = await this.execution(ref, executionId);
    if (status !== 'Stopped') throw new AppError('BAD_REQUEST', `param status invalid: ${status}`);
    const now = this.d.clock.now().toISOString();
    const open = await this.repo.openTasks(row.id);
    if (open.length > 0 || row.status === 'Running')
      await this.repo.set(row.id, { status: 'Stopped', end_time: now }, now);
    for (const id of open) await this.d.queue.stop(id);
  }

  private async policyId(ref: PolicyRef): Promise<number> {
    const row = await this.d.store.preheatPolicies.byName(ref.projectId, ref.policy);
    if (!row) throw new AppError('NOT_FOUND', `preheat policy ${ref.policy} not found`);
    return row.id;
  }

  private async execution(ref: PolicyRef, executionId: number): Promise<ExecutionRow> {
    const policyId = await this.policyId(ref);
    const row = await this.repo.find(executionId);
    if (!row || row.vendor_id !== policyId)
      throw new AppError('NOT_FOUND', `execution id ${executionId} not found`);
    return row;
  }

  private async view(row: ExecutionRow, c: TaskCounts) {
    const total = c.pending + c.running + c.succeeded + c.failed + c.stopped;
    let status = row.status;
    let end = row.end_time;
    let message = row.status_message;
    if (total > 0) {
      if (c.pending + c.running > 0) status = 'Running';
      else if (row.status === 'Stopped' || c.stopped > 0) status = 'Stopped';
      else if (c.failed > 0) status = 'Error';
      else status = 'Success';
      end = status === 'Running' ? null : ((await this.repo.lastTaskEnd(row.id)) ?? row.end_time);
      if (c.failed > 0 && status !== 'Running') message = `${c.failed} of ${total} task(s) failed`;
    }
    return {
      id: row.id,
      vendor_type: row.vendor_type,
      vendor_id: row.vendor_id,
      status,
      status_message: message,
      metrics: {
        task_count: total,
        success_task_count: c.succeeded,
        error_task_count: c.failed,
        pending_task_count: c.pending,
        running_task_count: c.running,
        scheduled_task_count: 0,
        stopped_task_count: c.stopped,
      },
      trigger: row.trigger,
      extra_attrs: JSON.parse(row.extra_attrs) as Record<string, unknown>,
      start_time: rfc3339(row.start_time),
      end_time: rfc3339(end),
    };
  }
}

/** Harbor's Task of a preheat: the artifact and tag, digest and kind in its extra attributes. */
function taskView(job: JobRow) {
  const p = preheatTaskPayload.parse(JSON.parse(job.payload));
  return {
    id: job.id,
    execution_id: job.execution_id!,
    status: taskStatus[job.status],
    status_message: job.status === 'failed' ? (job.last_error ?? '') : '',
    run_count: job.attempts,
    extra_attrs: { artifact: `${p.repository}:${p.tag}`, digest: p.digest, kind: p.kind },
    creation_time: rfc3339(job.creation_time),
    update_time: rfc3339(job.update_time),
    start_time: rfc3339(job.start_time),
    end_time: rfc3339(job.end_time),
  };
}
