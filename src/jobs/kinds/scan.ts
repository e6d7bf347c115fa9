import { z } from 'zod';
import type { ScanJobPayload, ScanRequestPayload } from '../../services/scanning/scan-service.js';
import { scanAllPayload, type ScanAllPayload } from '../../services/scanning/scan-all.js';
import { defineJob, type JobContext } from '../kind.js';

const scanJobPayload = z
  .object({
    reportIds: z.array(z.number().int()).min(1),
    projectId: z.number().int(),
    repository: z.string(),
    digest: z.string(),
    mediaType: z.string(),
    tag: z.string().nullable(),
    registrationUuid: z.string(),
    type: z.enum(['vulnerability', 'sbom']),
    operator: z.string(),
  })
  .strict() satisfies z.ZodType<ScanJobPayload>;

/**
 * `scan.artifact`: one manifest scanned by the project's scanner, its reports filled. The outcome is the
 * report's status (a failed scan is an Error report, not a retried job); a second run only takes over
 * from a worker that died. `jobs.concurrency["scan.artifact"]` caps the scans a worker runs at once.
 */
export function scanArtifactJob(runner: { run(p: ScanJobPayload, ctx: JobContext): Promise<void> }) {
  return defineJob({
    kind: 'scan.artifact',
    payload: scanJobPayload,
    retry: { maxAttempts: 2, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    run: (p, ctx) => runner.run(p, ctx),
  });
}

const scanRequestPayload = z
  .object({
    type: z.enum(['vulnerability', 'sbom']).optional(),
    projectId: z.number().int(),
    repository: z.string(),
    digest: z.string(),
    tag: z.string().nullable(),
    operator: z.string(),
  })
  .strict() satisfies z.ZodType<ScanRequestPayload>;

/**
 * `scan.request`: a scan asked for by a push into an auto-scan project (queued in the push's transaction)
 * or by scan all (a task of its execution): starts the artifact's scan as a POST .../scan would.
 */
export function scanRequestJob(scans: {
  request(p: ScanRequestPayload, executionId?: number): Promise<void>;
}) {
  return defineJob({
    kind: 'scan.request',
    payload: scanRequestPayload,
    retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    run: (p, ctx) => scans.request(p, ctx.executionId ?? undefined),
  });
}

/**
 * `scan.all`: one run of scan all (started by hand with its execution, or by the schedule without one):
 * walks the registry and queues each artifact's scan as a task of the execution. Not retried: a run cut
 * short leaves the scans it queued, and the next run skips what they made fresh.
 */
export function scanAllJob(runner: { runJob(p: ScanAllPayload, ctx: JobContext): Promise<void> }) {
  return defineJob({
    kind: 'scan.all',
    payload: scanAllPayload,
    retry: { maxAttempts: 1, baseDelayMs: 5_000, maxDelayMs: 5_000 },
    run: (p, ctx) => runner.runJob(p, ctx),
  });
}
