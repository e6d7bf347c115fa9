import { z } from 'zod';
import { defineJob, type JobContext } from '../kind.js';

/** `replication.start`: fired by a policy's cron schedule; starts an execution. */
export function replicationStartJob(runner: {
  start(policyId: number, trigger: 'SCHEDULE'): Promise<number>;
}) {
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
export function replicationPlanJob(runner: { plan(executionId: number, ctx: JobContext): Promise<void> }) {
  return defineJob({
    kind: 'replication.plan',
    payload: z.object({ executionId: z.number().int() }).strict(),
    retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    run: (p, ctx) => runner.plan(p.executionId, ctx),
  });
}

/** `replication.copy`: one task, one artifact copied (or deleted) between two registries. */
export function replicationCopyJob<T>(
  payload: z.ZodType<T>,
  copy: (task: T, ctx: JobContext) => Promise<void>,
) {
  return defineJob({
    kind: 'replication.copy',
    payload,
    retry: { maxAttempts: 3, baseDelayMs: 2_000, maxDelayMs: 60_000 },
    run: copy,
  });
}
