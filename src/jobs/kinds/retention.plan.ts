import { z } from 'zod';
import { defineJob, type JobContext } from '../kind.js';

/** `retention.plan`: lists the project's repositories and enqueues one `retention.process` task per repository. */
export function retentionPlanJob(runner: { plan(executionId: number, ctx: JobContext): Promise<void> }) {
  return defineJob({
    kind: 'retention.plan',
    payload: z.object({ executionId: z.number().int() }).strict(),
    retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    run: (p, ctx) => runner.plan(p.executionId, ctx),
  });
}
