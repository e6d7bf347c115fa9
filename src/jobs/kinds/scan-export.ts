import type { z } from 'zod';
import { defineJob, type JobContext } from '../kind.js';

/** `scan.export`: one CVE export (Harbor's SCAN_DATA_EXPORT job) writing its CSV. */
export function scanExportJob<P>(
  kind: string,
  payload: z.ZodType<P>,
  runner: { run(p: P, ctx: JobContext): Promise<void> },
) {
  return defineJob({
    kind,
    payload,
    // The file is written whole at the end, so a run taken over after a crash starts again cleanly.
    retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    run: (p, ctx) => runner.run(p, ctx),
  });
}
