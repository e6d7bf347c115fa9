import { z } from 'zod';
import { defineJob, type JobContext } from '../kind.js';

/** One delivery: what the target receives, formatted when the event happened. */
export const deliveryPayload = z
  .object({
    policyId: z.number().int(),
    notifyType: z.enum(['http', 'slack']),
    address: z.string().url(),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
    skipCertVerify: z.boolean(),
  })
  .strict();
export type DeliveryPayload = z.infer<typeof deliveryPayload>;

/**
 * One event for a project's webhooks, as the change that caused it wrote it (services/webhooks/payloads.ts
 * `WebhookEvent`; checked only in shape here: the notifier built it).
 */
export const eventPayload = z
  .object({
    projectId: z.number().int(),
    event: z
      .object({
        type: z.string(),
        occurAt: z.number(),
        operator: z.string(),
        eventData: z.record(z.string(), z.unknown()),
      })
      .strict(),
  })
  .strict();
export type EventPayload = z.infer<typeof eventPayload>;

export interface WebhookRetry {
  /** Runs in total, the first included. */
  maxAttempts: number;
  /** Delay before the second run; doubles for each further run. */
  retryDelayMs: number;
  /** Requests in flight at once per target address, per worker. */
  perTarget: number;
}

/** Claims of one `webhook.event` job at most (a claimed batch that was never recorded is claimed again). */
export const eventAttempts = 5;

/** Deliveries in flight at once per worker over all targets (`jobs.concurrency['webhook.deliver']`). */
export const webhookSlots = 32;

/**
 * `webhook.deliver`: one POST to one target; `send` throws unless the target answered 2xx, and the queue
 * retries with backoff. Jobs are grouped by target address, so a slow or failing receiver holds at most
 * `perTarget` slots of a worker and the other targets' deliveries go on. A delivery waits on the network,
 * so deliveries have a pool of slots of their own beside `jobs.workers`, and being short, each writes its
 * log with its outcome. They run in a thread of their own (services/webhooks/delivery-thread.ts).
 */
export function webhookDeliverJob(
  o: WebhookRetry,
  send: (p: DeliveryPayload, ctx: JobContext) => Promise<void>,
) {
  return defineJob({
    kind: 'webhook.deliver',
    payload: deliveryPayload,
    retry: { maxAttempts: o.maxAttempts, baseDelayMs: o.retryDelayMs, maxDelayMs: 5 * 60_000 },
    group: { of: (p) => p.address, cap: o.perTarget },
    pool: { slots: webhookSlots },
    logWithOutcome: true,
    thread: true,
    run: send,
  });
}

/**
 * `webhook.event`: one event, as the change that caused it wrote it (one row; nothing rendered). The
 * delivery thread claims these in batches (services/webhooks/event-batches.ts), not through a job
 * worker: it fans them out, sends them, and writes each delivery's execution and task with the batch's
 * outcome.
 */
export function webhookEventJob(run: (p: EventPayload, ctx: JobContext) => Promise<void>) {
  return defineJob({
    kind: 'webhook.event',
    payload: eventPayload,
    retry: { maxAttempts: eventAttempts, baseDelayMs: 1000, maxDelayMs: 60_000 },
    // A fan-out is a few cached reads: a wide pool lets one claim take all the events of a linger.
    pool: { slots: 64 },
    logWithOutcome: true,
    thread: true,
    run,
  });
}
