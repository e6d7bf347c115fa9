import type { MetaStore, Repos } from '../../db/store.js';
import type { JobContext } from '../../jobs/kind.js';
import { PermanentJobError } from '../../jobs/kind.js';
import type { ReplicationTask } from '../../jobs/kinds/replication.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Log } from '../../lib/logger.js';
import type { RemoteRegistry } from '../../remotes/adapter.js';
import { copyArtifact, type CopyEvent } from '../../remotes/copy.js';
import type { DomainEvents, EventBus } from '../events.js';
import { compileFilters, destinationRepository } from './filters.js';
import { policyOf, type Policy, type ReplicationPolicies } from './policies.js';
import type { RegistryEndpoints } from './registry-endpoints.js';

export type TriggerName = 'MANUAL' | 'SCHEDULE' | 'EVENT_BASED';

/** One task: copy (or delete) one artifact (the `replication.copy` job's payload, jobs/kinds). */
export type TaskPayload = ReplicationTask;

const chunkSize = 10 * 1024 * 1024;

export interface ExecutionDeps {
  store: Pick<MetaStore, 'replication' | 'transaction'>;
  clock: Clock;
  log: Log;
  queue: JobQueue;
  registries: RegistryEndpoints;
  policies: ReplicationPolicies;
  /** This Berth as a replication side. */
  local: () => RemoteRegistry;
  events: Pick<EventBus, 'publish' | 'emit'>;
}

/**
 * Runs policies: an execution is planned by a `replication.plan` job, which lists the source, applies the
 * filters and enqueues one `replication.copy` task job per artifact. Task status, retries, stop and logs
 * are the job system's.
 */
export class ReplicationExecutions {
  constructor(private readonly d: ExecutionDeps) {}

  private now(): string {
    return this.d.clock.now().toISOString();
  }

  /** Starts an execution of the policy; returns its id. */
  async start(policyId: number, trigger: TriggerName): Promise<number> {
    const policy = await this.d.policies.get(policyId);
    if (!policy.enabled) {
      throw new AppError('PRECONDITION', `replication policy ${policy.name} is disabled; enable it first`);
    }
    return this.d.store.transaction(async (tx) => {
      const execution = await tx.replication.createExecution(policyId, trigger, this.now());
      await this.d.queue.enqueue(tx, 'replication.plan', { executionId: execution.id });
      return execution.id;
    });
  }

  /** The `replication.plan` handler. */
  async plan(executionId: number, ctx: JobContext): Promise<void> {
    const execution = await this.d.store.replication.findExecution(executionId);
    if (!execution) throw new PermanentJobError(`execution ${executionId} no longer exists`);
    if (execution.status !== 'InProgress') return;
    const policy = await this.d.policies.get(execution.vendor_id).catch(() => {
      throw new PermanentJobError(`replication policy ${execution.vendor_id} no longer exists`);
    });
    const { source, destination } = await this.sides(policy);
    try {
      const tasks = await this.enumerate(policy, source, ctx);
      await ctx.log(`found ${tasks.length} artifact(s) to replicate`);
      if (tasks.length > 0) {
        await destination.prepareForPush([...new Set(tasks.map((t) => t.dstRepository))], {
          signal: ctx.signal,
        });
      }
      await this.d.store.transaction(async (tx) => {
        const current = await tx.replication.findExecution(executionId);
        if (current?.status !== 'InProgress') return;
        for (const t of tasks) await this.d.queue.enqueue(tx, 'replication.copy', t, { executionId });
        const done = tasks.length === 0;
        await tx.replication.setExecution(
          executionId,
          {
            status: done ? 'Succeed' : 'Planned',
            status_message: done ? 'nothing to replicate' : '',
            end_time: done ? this.now() : null,
          },
          this.now(),
        );
      });
    } catch (err) {
      const message = `planning failed while listing ${source.name}: ${(err as Error).message}`;
      const transient = err instanceof AppError && ['UNAVAILABLE', 'TOOMANYREQUESTS'].includes(err.code);
      if (!transient || ctx.attempt >= ctx.maxAttempts) {
        await this.d.store.replication.setExecution(
          executionId,
          { status: 'Failed', status_message: message, end_time: this.now() },
          this.now(),
        );
        throw new PermanentJobError(message);
      }
      throw new Error(message, { cause: err });
    } finally {
      await Promise.all([source.close(), destination.close()]);
    }
  }

  /**
   * The `replication.copy` handler: one artifact, all its tags. Its final outcome (Success, or Error after
   * the last try) is published as ReplicationTaskFinished in the transaction that records it, so its
   * webhook deliveries commit with the task's end; a stopped task publishes nothing.
   */
  async copy(task: TaskPayload, ctx: JobContext): Promise<void> {
    const executionId = ctx.executionId;
    if (executionId !== null)
      ctx.onOutcome(async (tx, outcome) => {
        const e: DomainEvents['ReplicationTaskFinished'] = {
          executionId,
          taskId: ctx.jobId,
          policyId: task.policyId,
          status: outcome === 'succeeded' ? 'Success' : 'Error',
          operation: task.operation,
          resourceType: task.resourceType,
          srcRepository: task.srcRepository,
          dstRepository: task.dstRepository,
          references: task.tags.length > 0 ? task.tags : [task.reference],
        };
        await this.d.events.publish(tx, 'ReplicationTaskFinished', e);
        return () => this.d.events.emit('ReplicationTaskFinished', e);
      });
    await this.copyOnce(task, ctx);
  }

  private async copyOnce(task: TaskPayload, ctx: JobContext): Promise<void> {
    const policy = await this.d.policies.get(task.policyId).catch(() => {
      throw new PermanentJobError(`replication policy ${task.policyId} no longer exists`);
    });
    const { source, destination } = await this.sides(policy);
    try {
      if (task.operation === 'deletion') {
        await ctx.log(`deleting ${task.dstRepository}@${task.reference} from ${destination.name}`);
        const there = await destination.headManifest(task.dstRepository, task.reference, {
          signal: ctx.signal,
        });
        if (!there) {
          await ctx.log('already absent at the destination');
          return;
        }
        await destination.deleteManifest(task.dstRepository, there.digest, { signal: ctx.signal });
        await ctx.log(`deleted ${task.dstRepository}@${there.digest}`);
        return;
      }
      const what = `${task.srcRepository}@${task.reference}${task.tags.length ? ` (tags ${task.tags.join(', ')})` : ''}`;
      await ctx.log(`copying ${what} from ${source.name} to ${destination.name} as ${task.dstRepository}`);
      const result = await copyArtifact({
        source,
        sourceRepository: task.srcRepository,
        reference: task.reference,
        destination,
        destinationRepository: task.dstRepository,
        tags: task.tags,
        override: policy.override,
        chunkSize: policy.copyByChunk ? chunkSize : undefined,
        speedKBps: policy.speed > 0 ? policy.speed : undefined,
        signal: ctx.signal,
        onProgress: (e: CopyEvent) => {
          if (e.kind === 'blob') void ctx.log(`blob ${e.digest} (${e.size} bytes): ${e.outcome}`);
          if (e.kind === 'manifest') void ctx.log(`pushed manifest ${e.digest} as ${e.reference}`);
        },
      });
      await ctx.log(
        result.upToDate
          ? 'already up to date at the destination'
          : `done: ${result.blobsCopied} blob(s) copied (${result.bytesCopied} bytes), ${result.blobsSkipped} already present, ${result.blobsMounted} mounted, ${result.manifestsPushed} manifest(s) pushed` +
              (result.tagsKept.length ? `; kept tags ${result.tagsKept.join(', ')} (override is off)` : ''),
      );
    } finally {
      await Promise.all([source.close(), destination.close()]);
    }
  }

  /** Stops an execution: no more planning, and every open task is stopped. */
  async stop(executionId: number): Promise<void> {
    const execution = await this.d.store.replication.findExecution(executionId);
    if (!execution) throw new AppError('NOT_FOUND', `replication execution ${executionId} not found`);
    if (execution.status === 'InProgress' || execution.status === 'Planned') {
      await this.d.store.replication.setExecution(
        executionId,
        { status: 'Stopped', status_message: 'stopped by a user', end_time: this.now() },
        this.now(),
      );
    }
    for (const id of await this.d.store.replication.openTasks(executionId)) await this.d.queue.stop(id);
  }

  /**
   * Event-based push policies: a push to this Berth replicates the artifact. Runs inside the push's
   * transaction, so the execution and its task job commit with the artifact or not at all.
   */
  async onPushed(tx: Repos, e: DomainEvents['ArtifactPushed']): Promise<void> {
    let labels: string[] | undefined;
    for (const policy of await eventPolicies(tx)) {
      const filters = compileFilters(policy.filters);
      if (!filters.repository(e.repository)) continue;
      // Labels matter only to a label filter (a freshly pushed artifact has none; a re-pushed one may).
      if (labels === undefined && policy.filters.some((f) => f.type === 'label')) {
        labels = await labelsOf(tx, e.repository, e.digest);
      }
      const tags = filters.tags({ tags: e.tag ? [e.tag] : [], labels: labels ?? [], mediaType: e.mediaType });
      if (tags === null) continue;
      await this.startEvent(tx, policy, e.repository, (dstRepository) => ({
        policyId: policy.id,
        operation: 'copy',
        resourceType: 'image',
        srcRepository: e.repository,
        reference: e.digest,
        tags: tags === 'untagged' ? [] : tags,
        dstRepository,
      }));
    }
  }

  /** Event-based push policies with "delete remote resources when locally deleted"; in the delete's transaction. */
  async onDeleted(tx: Repos, e: DomainEvents['ArtifactDeleted']): Promise<void> {
    for (const policy of await eventPolicies(tx)) {
      if (!policy.replicateDeletion || !compileFilters(policy.filters).repository(e.repository)) continue;
      await this.startEvent(tx, policy, e.repository, (dstRepository) => ({
        policyId: policy.id,
        operation: 'deletion',
        resourceType: 'image',
        srcRepository: e.repository,
        reference: e.digest,
        tags: [],
        dstRepository,
      }));
    }
  }

  /**
   * One execution with one task. A policy that cannot name the destination (flattening deeper than the
   * name) fails its execution with the reason; it never refuses the push or delete that triggered it.
   */
  private async startEvent(
    tx: Repos,
    policy: Policy,
    repository: string,
    task: (dstRepository: string) => TaskPayload,
  ): Promise<void> {
    const execution = await tx.replication.createExecution(policy.id, 'EVENT_BASED', this.now());
    let dstRepository: string;
    try {
      dstRepository = destinationRepository(repository, policy.destNamespace, policy.replaceCount);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const message = `cannot replicate ${repository}: ${err.message}`;
      await tx.replication.setExecution(
        execution.id,
        { status: 'Failed', status_message: message, end_time: this.now() },
        this.now(),
      );
      return;
    }
    await tx.replication.setExecution(execution.id, { status: 'Planned' }, this.now());
    await this.d.queue.enqueue(tx, 'replication.copy', task(dstRepository), { executionId: execution.id });
  }

  private async enumerate(policy: Policy, source: RemoteRegistry, ctx: JobContext): Promise<TaskPayload[]> {
    const filters = compileFilters(policy.filters);
    const opts = { signal: ctx.signal };
    const tasks: TaskPayload[] = [];
    for (const repo of await source.listRepositories({ match: filters.repository, signal: ctx.signal })) {
      for (const artifact of await source.listArtifacts(repo, opts)) {
        const tags = filters.tags(artifact);
        if (tags === null) continue;
        tasks.push({
          policyId: policy.id,
          operation: 'copy',
          resourceType: 'image',
          srcRepository: repo,
          reference: artifact.digest,
          tags: tags === 'untagged' ? [] : tags,
          dstRepository: destinationRepository(repo, policy.destNamespace, policy.replaceCount),
        });
      }
    }
    return tasks;
  }

  private async sides(policy: Policy): Promise<{ source: RemoteRegistry; destination: RemoteRegistry }> {
    const side = async (id: number | null) =>
      id === null ? this.d.local() : await this.d.registries.remote(await this.d.registries.get(id));
    return { source: await side(policy.srcRegistryId), destination: await side(policy.destRegistryId) };
  }
}

async function eventPolicies(tx: Repos): Promise<Policy[]> {
  return (await tx.replication.eventPolicies()).map(policyOf).filter((p) => p.trigger.type === 'event_based');
}

async function labelsOf(tx: Repos, repository: string, digest: string): Promise<string[]> {
  const repo = await tx.repositories.findByName(repository);
  const artifact = repo && (await tx.artifacts.findByDigest(repo.id, digest));
  if (!artifact) return [];
  return ((await tx.labels.ofArtifacts([artifact.id])).get(artifact.id) ?? []).map((l) => l.name);
}
