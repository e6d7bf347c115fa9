import type { TaskCounts } from '../../../db/repos/executions.js';
import type { MetaStore } from '../../../db/store.js';
import type { ExecutionRow, JobRow, JobStatus } from '../../../db/tables.js';
import type { JobContext } from '../../../jobs/kind.js';
import { PermanentJobError } from '../../../jobs/kind.js';
import type { JobQueue } from '../../../jobs/queue.js';
import type { Clock } from '../../../lib/clock.js';
import { AppError } from '../../../lib/errors.js';
import { jobLogText } from '../../../jobs/queue.js';
import type { RetentionPolicy } from './policy.js';
import { runRepositoryTask, type RepositoryTask, type RepositoryTaskDeps } from './repository-task.js';
import type { RetentionPolicies } from './retention-policies.js';
import { repositorySelected } from './selectors.js';

export type RetentionTrigger = 'MANUAL' | 'SCHEDULE';

/** Harbor's task status words (pkg/task) and their codes. */
const taskStatus: Record<JobStatus, [string, number]> = {
  pending: ['Pending', 0],
  running: ['Running', 2],
  succeeded: ['Success', 3],
  failed: ['Error', 3],
  stopped: ['Stopped', 3],
};

interface ExecutionAttrs {
  dry_run?: boolean;
  operator?: string;
}

/**
 * Runs retention policies. A trigger writes the execution and a `retention.plan` job in one transaction;
 * the plan lists the project's repositories a page at a time and enqueues one `retention.process` task
 * per repository that a rule selects, with the rules that apply to it. Status, retries, stop and logs
 * are the job system's, so a run survives a restart and runs once however many nodes serve.
 */
export class RetentionExecutions {
  constructor(
    private readonly d: {
      store: Pick<MetaStore, 'jobs' | 'retention' | 'transaction'>;
      clock: Clock;
      queue: JobQueue;
      policies: RetentionPolicies;
      task: Omit<RepositoryTaskDeps, 'store' | 'clock'>;
    },
  ) {}

  private now(): string {
    return this.d.clock.now().toISOString();
  }

  async trigger(
    policyId: number,
    trigger: RetentionTrigger,
    dryRun: boolean,
    operator: string,
  ): Promise<number> {
    await this.d.policies.get(policyId);
    return this.d.store.transaction(async (tx) => {
      const attrs: ExecutionAttrs = { dry_run: dryRun, operator };
      const execution = await tx.retention.executions.create(policyId, trigger, this.now(), attrs);
      await this.d.queue.enqueue(tx, 'retention.plan', { executionId: execution.id });
      return execution.id;
    });
  }

  /** The `retention.plan` handler. */
  async plan(executionId: number, ctx: JobContext): Promise<void> {
    const executions = this.d.store.retention.executions;
    const execution = await executions.find(executionId);
    if (!execution) throw new PermanentJobError(`retention execution ${executionId} no longer exists`);
    if (execution.status !== 'InProgress') return;
    const policy = await this.d.policies.get(execution.vendor_id).catch(() => {
      throw new PermanentJobError(`retention policy ${execution.vendor_id} no longer exists`);
    });
    const attrs = JSON.parse(execution.extra_attrs) as ExecutionAttrs;
    const tasks = await this.tasksOf(policy, executionId, attrs);
    await ctx.log(`planned ${tasks.length} repository task(s)`);
    await this.d.store.transaction(async (tx) => {
      const current = await tx.retention.executions.find(executionId);
      if (current?.status !== 'InProgress') return;
      for (const t of tasks) await this.d.queue.enqueue(tx, 'retention.process', t, { executionId });
      const done = tasks.length === 0;
      await tx.retention.executions.set(
        executionId,
        {
          status: done ? 'Succeed' : 'Planned',
          status_message: done ? 'no resources for retention' : '',
          end_time: done ? this.now() : null,
        },
        this.now(),
      );
    });
  }

  /** The `retention.process` handler: one repository. */
  async process(task: RepositoryTask, ctx: JobContext): Promise<void> {
    await runRepositoryTask({ ...this.d.task, store: this.d.store, clock: this.d.clock }, task, ctx);
  }

  /** Stops an execution: no more planning, and every open task is stopped. */
  async stop(policyId: number, executionId: number): Promise<void> {
    const execution = await this.execution(policyId, executionId);
    if (execution.status === 'InProgress' || execution.status === 'Planned')
      await this.d.store.retention.executions.set(
        executionId,
        { status: 'Stopped', status_message: 'stopped by a user', end_time: this.now() },
        this.now(),
      );
    for (const id of await this.d.store.retention.executions.openTasks(executionId))
      await this.d.queue.stop(id);
  }

  async list(policyId: number, page: { offset: number; limit: number }) {
    const { rows, total } = await this.d.store.retention.executions.list({ vendorId: policyId, ...page });
    const counts = await this.d.store.retention.executions.taskCounts(rows.map((r) => r.id));
    return { total, items: await Promise.all(rows.map((r) => this.view(r, counts.get(r.id)!))) };
  }

  async get(policyId: number, executionId: number) {
    const row = await this.execution(policyId, executionId);
    const counts = await this.d.store.retention.executions.taskCounts([row.id]);
    return this.view(row, counts.get(row.id)!);
  }

  async tasks(policyId: number, executionId: number, page: { offset: number; limit: number }) {
    await this.execution(policyId, executionId);
    const { rows, total } = await this.d.store.retention.executions.listTasks(executionId, page);
    const counts = await this.d.store.retention.taskCounts(rows.map((r) => r.id));
    return { total, items: rows.map((r) => taskView(r, counts.get(r.id))) };
  }

  async taskLog(policyId: number, executionId: number, taskId: number): Promise<string> {
    const execution = await this.execution(policyId, executionId);
    const job = await this.d.store.jobs.find(taskId);
    if (!job || job.execution_id !== execution.id)
      throw new AppError('NOT_FOUND', `task ${taskId} of retention execution ${executionId} not found`);
    return jobLogText(this.d.store, job);
  }

  private async execution(policyId: number, executionId: number): Promise<ExecutionRow> {
    const policy = await this.d.policies.get(policyId);
    const row = await this.d.store.retention.executions.find(executionId);
    if (!row || row.vendor_id !== policyId)
      throw new AppError('NOT_FOUND', `project: ${policy.scope.ref}, execution id ${executionId} not found`);
    return row;
  }

  /** One task per repository a rule selects, with the enabled rules that select it. */
  private async tasksOf(policy: RetentionPolicy, executionId: number, attrs: ExecutionAttrs) {
    const rules = policy.rules.filter((r) => !r.disabled);
    const tasks: RepositoryTask[] = [];
    if (rules.length === 0) return tasks;
    for (let after = 0; ;) {
      const page = await this.d.store.retention.repositoriesPage(policy.scope.ref, after, 500);
      for (const repo of page) {
        const applying = rules.filter((r) =>
          repositorySelected(r.scope_selectors.repository ?? [], repo.name),
        );
        if (applying.length === 0) continue;
        tasks.push({
          executionId,
          policyId: policy.id,
          projectId: policy.scope.ref,
          repositoryId: repo.id,
          repository: repo.name,
          dryRun: attrs.dry_run ?? false,
          operator: attrs.operator ?? '',
          rules: applying,
        });
      }
      if (page.length < 500) break;
      after = page.at(-1)!.id;
    }
    return tasks;
  }

  private async view(row: ExecutionRow, c: TaskCounts) {
    const attrs = JSON.parse(row.extra_attrs) as ExecutionAttrs;
    const open = c.pending + c.running;
    let status: string;
    if (row.status === 'Failed') status = 'Error';
    else if (open > 0 || row.status === 'InProgress') status = 'Running';
    else if (row.status === 'Stopped' || c.stopped > 0) status = 'Stopped';
    else if (c.failed > 0) status = 'Error';
    else status = 'Success';
    const total = open + c.succeeded + c.failed + c.stopped;
    let end = row.end_time;
    if (status === 'Running') end = null;
    else if (total > 0) end = (await this.d.store.retention.executions.lastTaskEnd(row.id)) ?? row.end_time;
    return {
      id: row.id,
      policy_id: row.vendor_id,
      start_time: row.start_time,
      end_time: end ?? '',
      status,
      status_text: row.status_message,
      trigger: row.trigger,
      dry_run: attrs.dry_run ?? false,
      operator: attrs.operator ?? '',
    };
  }
}

function taskView(job: JobRow, counts: { total: number; retained: number } | undefined) {
  const p = JSON.parse(job.payload) as RepositoryTask;
  const [status, code] = taskStatus[job.status];
  return {
    id: job.id,
    execution_id: job.execution_id!,
    repository: p.repository,
    job_id: String(job.id),
    status,
    status_code: code,
    status_revision: 0,
    start_time: job.start_time ?? '',
    end_time: job.end_time ?? '',
    total: counts?.total ?? 0,
    retained: counts?.retained ?? 0,
  };
}
