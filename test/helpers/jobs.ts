import { z } from 'zod';
import type { MetaStore } from '../../src/db/store.js';
import { defineJob, type JobContext, type JobKind, type RetryPolicy } from '../../src/jobs/kind.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { JobWorker } from '../../src/jobs/worker.js';
import type { Clock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';

export const quickRetry: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000 };

/** A job kind whose handler the test supplies. Payload: `{ n: number }`. */
export function testKind(
  kind: string,
  run: (payload: { n: number }, ctx: JobContext) => Promise<void>,
  retry: RetryPolicy = quickRetry,
): JobKind<{ n: number }> {
  return defineJob({ kind, payload: z.object({ n: z.number().int() }).strict(), retry, run });
}

/** Waits until the signal aborts (a handler that runs until it is stopped). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Error(String(signal.reason)));
    signal.addEventListener('abort', () => reject(new Error(String(signal.reason))), { once: true });
  });
}

export interface WorkerSetup {
  store: MetaStore;
  clock?: Clock;
  kinds: JobKind<{ n: number }>[];
  workers?: number;
  concurrency?: Record<string, number>;
  leaseMs?: number;
  pollMs?: number;
  owner?: string;
}

/** A queue with the given kinds and a worker over it (not started: call start() or tick()). */
export function testWorker(o: WorkerSetup): { queue: JobQueue; worker: JobWorker } {
  const clock = o.clock ?? { now: () => new Date() };
  const queue = new JobQueue({ store: o.store, clock });
  for (const k of o.kinds) queue.register(k);
  const worker = new JobWorker({
    store: o.store,
    queue,
    clock,
    log: createLogger(process.env.BERTH_TEST_LOG ?? 'silent'),
    workers: o.workers ?? 4,
    concurrency: o.concurrency,
    leaseMs: o.leaseMs ?? 30_000,
    pollMs: o.pollMs ?? 20,
    owner: o.owner,
  });
  return { queue, worker };
}
