import { z } from 'zod';
import { defineJob, type JobContext } from '../kind.js';

/** What one purge deletes: audit rows older than `retentionHour` of the given event types. */
export const auditPurgePayload = z
  .object({
    retentionHour: z.number().int().min(0),
    /** Harbor's event type names (`create_artifact`, …, or `other`). */
    includeEventTypes: z.array(z.string()),
    dryRun: z.boolean(),
    /** The schedule type that fired it (kept for GET /system/purgeaudit/schedule). */
    scheduleType: z.string().optional(),
  })
  .strict();
export type AuditPurgePayload = z.infer<typeof auditPurgePayload>;

export const auditPurgeKind = 'audit.purge';

/** `audit.purge`: Administration → Clean Up → Log Rotation, run now or by its schedule. */
export function auditPurgeJob(purger: { run(p: AuditPurgePayload, ctx: JobContext): Promise<void> }) {
  return defineJob({
    kind: auditPurgeKind,
    payload: auditPurgePayload,
    retry: { maxAttempts: 3, baseDelayMs: 30_000, maxDelayMs: 600_000 },
    run: (p, ctx) => purger.run(p, ctx),
  });
}
