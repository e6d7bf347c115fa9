import type { z } from 'zod';
import type { Repos } from '../db/store.js';

/** How often and how soon a failed job runs again. */
export interface RetryPolicy {
  /** Runs in total, the first included. 1 = never retried. */
  maxAttempts: number;
  /** Delay before the second run; doubles for each further run. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** What a running handler gets from the worker. */
export interface JobContext {
  jobId: number;
  /** 1 for the first run. */
  attempt: number;
  maxAttempts: number;
  executionId: number | null;
  /** Aborted when the job is stopped, its lease is lost, or the worker shuts down. */
  signal: AbortSignal;
  /** Appends a line to the job's log (readable through the API). */
  log(line: string): Promise<void>;
  /**
   * Runs `fn` in the transaction that records the job's final outcome: `succeeded`, or `failed` after its
   * last try (a retried, stopped or interrupted run calls nothing). What `fn` writes (an event's
   * deliveries) commits with the outcome or not at all; the function it may return runs after the commit.
   */
  onOutcome(fn: OutcomeHook): void;
}

export type OutcomeHook = (
  tx: Repos,
  outcome: 'succeeded' | 'failed',
  batch: SettleBatch,
) => Promise<void | (() => void)>;

/**
 * What the outcome hooks of the runs settled in one transaction share (a worker settles the runs that
 * end together in one transaction): rows that each hook would write with statements of its own are
 * gathered under a key, and `flush` writes them together once, before the commit.
 */
export interface SettleBatch {
  /** The transaction's value under `key`, made by `make` at the first ask; `flush` runs once with it. */
  gather<T>(key: string, make: () => T, flush: (tx: Repos, value: T) => Promise<void>): T;
}

/** One kind of job: its name (`noun.verb`), payload schema, retry policy and handler. */
export interface JobKind<P = unknown> {
  kind: string;
  payload: z.ZodType<P>;
  retry: RetryPolicy;
  /**
   * Jobs of one group (a webhook target) run at most `cap` at once per worker; a full group's jobs wait
   * in the queue and never hold a slot, so one slow group cannot delay the others.
   */
  group?: { of(payload: P): string; cap: number };
  /**
   * Jobs that wait on the network rather than the CPU (webhook deliveries) run in a pool of their own of
   * `slots` per worker (`jobs.concurrency[kind]` overrides it), beside the `jobs.workers` that other kinds
   * share: they neither wait for a slot of a long CPU-bound job nor hold one.
   */
  pool?: { slots: number };
  /**
   * A short job's log lines are written with its outcome, in the transaction that settles it, rather than
   * one statement each as they come; a run cut short by a crash leaves no line (the next attempt writes
   * its own).
   */
  logWithOutcome?: boolean;
  /**
   * Jobs of this kind are claimed only by a worker of their own thread (`JobWorker` option `thread`), never
   * by the process's shared worker: their runs and bookkeeping stay off the event loop that serves
   * requests (webhook deliveries; docs/webhooks.md).
   */
  thread?: boolean;
  run(payload: P, ctx: JobContext): Promise<void>;
}

/** Thrown by a handler for a failure that another attempt cannot fix: the job fails at once. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/** Delay before run `attempt + 1`, after run `attempt` failed: exponential, capped, with up to 10% jitter. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxDelayMs, exp);
  return Math.round(capped * (1 + 0.1 * random()));
}

export function defineJob<P>(kind: JobKind<P>): JobKind<P> {
  return kind;
}
