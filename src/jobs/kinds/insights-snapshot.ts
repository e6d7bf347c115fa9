import { z } from 'zod';
import { defineJob } from '../kind.js';

export interface StorageSnapshotter {
  /** Copies every project's quota usage into today's storage row. */
  snapshotStorage(): Promise<void>;
}

/**
 * `insights.snapshot`: records every project's storage for the day (scheduled daily by the composition
 * root), so the storage trend has a point on days without a push or delete.
 */
export function insightsSnapshotJob(insights: StorageSnapshotter) {
  return defineJob({
    kind: 'insights.snapshot',
    payload: z.object({}).strict(),
    retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 600_000 },
    async run(_payload, ctx) {
      await insights.snapshotStorage();
      await ctx.log('recorded the storage of every project for today');
    },
  });
}
