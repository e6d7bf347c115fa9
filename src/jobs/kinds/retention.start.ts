import { z } from 'zod';
import { defineJob } from '../kind.js';

/** `retention.start`: fired by a retention policy's cron schedule; starts a (real) execution. */
export function retentionStartJob(runner: {
  trigger(policyId: number, trigger: 'SCHEDULE', dryRun: boolean, operator: string): Promise<number>;
}) {
  return defineJob({
    kind: 'retention.start',
    payload: z.object({ policyId: z.number().int() }).strict(),
    retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    async run(p, ctx) {
      const id = await runner.trigger(p.policyId, 'SCHEDULE', false, 'scheduler');
      await ctx.log(`started retention execution ${id}`);
    },
  });
}
