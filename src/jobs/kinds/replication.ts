import { z } from 'zod';
import { defineJob, type JobContext } from '../kind.js';

/** One replication task: copy (or delete) one artifact. The payload of a `replication.copy` job. */
export const replicationTaskPayload = z
  .object({
    policyId: z.number().int(),
    operation: z.enum(['copy', 'deletion']),
    resourceType: z.string(),
    srcRepository: z.string(),
    /** Digest of the artifact (or, for a deletion, the digest or tag to delete). */
    reference: z.string(),
    tags: z.array(z.string()),
    dstRepository: z.string(),
  })
  .strict();
export type ReplicationTask = z.infer<typeof replicationTaskPayload>;

/** What replication's jobs run (services/replication ReplicationExecutions). */
export interface ReplicationRunner {
  start(policyId: number, trigger: 'SCHEDULE'): Promise<number>;
  plan(executionId: number, ctx: JobContext): Promise<void>;
  copy(task: ReplicationTask, ctx: JobContext): Promise<void>;
}

/** `replication.start`: fired by a policy's cron schedule; starts an execution. */
export function replicationStartJob(runner: Pick<ReplicationRunner, 'start'>) {
  return defineJob({
    kind: 'replication.start',
    payload: z.object({ policyId: z.number().int(), trigger: z.literal('SCHEDULE') }).strict(),
    retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    async run(p, ctx) {
      const id = await runner.start(p.policyId, p.trigger);
      await ctx.log(`started replication execution ${id}`);
    },
  });
}

/** `replication.plan`: lists the source of an execution and enqueues one task per artifact. */
export function replicationPlanJob(runner: Pick<ReplicationRunner, 'plan'>) {
  return defineJob({
    kind: 'replication.plan',
    payload: z.object({ executionId: z.number().int() }).strict(),
    retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    run: (p, ctx) => runner.plan(p.executionId, ctx),
  });
}

/** `replication.copy`: one task, one artifact copied (or deleted) between two registries. */
export function replicationCopyJob(runner: Pick<ReplicationRunner, 'copy'>) {
  return defineJob({
    kind: 'replication.copy',
    payload: replicationTaskPayload,
    retry: { maxAttempts: 3, baseDelayMs: 2_000, maxDelayMs: 60_000 },
    run: (task, ctx) => runner.copy(task, ctx),
  });
}
