import { z } from 'zod';
import { defineJob, type JobContext } from '../kind.js';

/** One preheat task: one artifact under one tag sent to the policy's provider. */
export const preheatTaskPayload = z
  .object({
    policyId: z.number().int(),
    providerId: z.number().int(),
    /** The repository, project included. */
    repository: z.string(),
    tag: z.string(),
    digest: z.string(),
    /** Harbor's artifact type in lower case (`image`). */
    kind: z.string(),
  })
  .strict();
export type PreheatTask = z.infer<typeof preheatTaskPayload>;

/** An artifact event that event-based policies may preheat: a push with a tag, or a scan that ended. */
export const preheatEventPayload = z
  .object({ repository: z.string(), digest: z.string(), tag: z.string().nullable() })
  .strict();
export type PreheatEvent = z.infer<typeof preheatEventPayload>;

/** What preheat's jobs run (services/preheat PreheatRuns). */
export interface PreheatRunner {
  startScheduled(policyId: number, ctx: JobContext): Promise<void>;
  onArtifact(event: PreheatEvent, ctx: JobContext): Promise<void>;
  preheat(task: PreheatTask, ctx: JobContext): Promise<void>;
}

/** `preheat.start`: fired by a scheduled policy's cron; runs the policy as a manual preheat does. */
export function preheatStartJob(runner: Pick<PreheatRunner, 'startScheduled'>) {
  return defineJob({
    kind: 'preheat.start',
    payload: z.object({ policyId: z.number().int() }).strict(),
    retry: { maxAttempts: 1, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    run: (p, ctx) => runner.startScheduled(p.policyId, ctx),
  });
}

/** `preheat.event`: matches an artifact against its project's event-based policies and starts their runs. */
export function preheatEventJob(runner: Pick<PreheatRunner, 'onArtifact'>) {
  return defineJob({
    kind: 'preheat.event',
    payload: preheatEventPayload,
    retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 60_000 },
    run: (p, ctx) => runner.onArtifact(p, ctx),
  });
}

/**
 * `preheat.artifact`: one task. Like Harbor's preheat job it is never retried: it asks the provider to
 * preheat and follows the provider's progress until it succeeds, fails or times out.
 */
export function preheatArtifactJob(runner: Pick<PreheatRunner, 'preheat'>) {
  return defineJob({
    kind: 'preheat.artifact',
    payload: preheatTaskPayload,
    retry: { maxAttempts: 1, baseDelayMs: 1_000, maxDelayMs: 1_000 },
    pool: { slots: 8 },
    run: (task, ctx) => runner.preheat(task, ctx),
  });
}
