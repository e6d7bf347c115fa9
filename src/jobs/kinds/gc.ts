import type { z } from 'zod';
import { defineJob, type JobContext } from '../kind.js';

/** `gc.run`: one garbage collection (an execution started by hand, or a scheduled fire). */
export function gcRunJob<P>(payload: z.ZodType<P>, runner: { runJob(p: P, ctx: JobContext): Promise<void> }) {
  return defineJob({
    kind: 'gc.run',
    payload,
    // A run that died (kill -9, lost lease) is taken over and finishes the deletions it left marked.
    retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    run: (p, ctx) => runner.runJob(p, ctx),
  });
}
