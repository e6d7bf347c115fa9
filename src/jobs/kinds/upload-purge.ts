import { z } from 'zod';
import { defineJob } from '../kind.js';

export interface UploadPurger {
  /** Removes upload sessions idle longer than `maxIdleMs` with their bytes; returns how many. */
  purgeStale(maxIdleMs: number): Promise<number>;
}

/** `upload.purge`: removes abandoned upload sessions (scheduled hourly by the composition root). */
export function uploadPurgeJob(uploads: UploadPurger, maxIdleMs: number) {
  return defineJob({
    kind: 'upload.purge',
    payload: z.object({}).strict(),
    retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 600_000 },
    async run(_payload, ctx) {
      const purged = await uploads.purgeStale(maxIdleMs);
      await ctx.log(`purged ${purged} upload session(s) idle for more than ${maxIdleMs / 3600_000} h`);
    },
  });
}
