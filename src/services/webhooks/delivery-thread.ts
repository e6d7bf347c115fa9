import type { Worker } from 'node:worker_threads';
import type { JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../lib/logger.js';
import { startThread, threadEntry } from '../../lib/worker-thread.js';
import type { WebhookRetry } from '../../jobs/kinds/webhook.js';

/** What the delivery thread (src/webhook-worker.ts) is started with. */
export interface DeliveryThreadInit {
  databaseUrl: string;
  acquireTimeoutMs: number;
  logLevel: string;
  /** The claims' lease and the idle poll, as `jobs.leaseSeconds` and `jobs.pollIntervalMs` say. */
  leaseMs: number;
  pollMs: number;
  /** `jobs.concurrency`: `webhook.deliver` there caps the thread's deliveries in flight. */
  concurrency: Record<string, number>;
  timeoutMs: number;
  retry: WebhookRetry;
  /** The outcomes of the job worker's retries are committed together this often (ms). */
  lingerMs: number;
  /** Counts the serving thread's commits that wrote deliveries (Int32Array over a SharedArrayBuffer). */
  commits: SharedArrayBuffer;
  /**
   * `idle` (the default, `webhooks.deliveryPriority`): the thread lowers itself to SCHED_IDLE this many ms
   * after it started (0: at once); null: it keeps the process's priority.
   */
  idleAfterMs: number | null;
  /**
   * An idle thread whose claim finds an event committed this long ago (ms) or longer says `starved`: the
   * serving thread then hands the deliveries to a new thread at normal priority.
   */
  starvedMs: number;
  /**
   * An idle thread whose record held SQLite's write lock (or a PostgreSQL transaction) this long (ms) says
   * `starved` too: preempted while holding it, it made the pushes wait for CPU time nothing else wanted.
   */
  slowHoldMs: number;
}

export type ToDeliveryThread = { kind: 'stop'; jobId: number } | { kind: 'close' };
export type FromDeliveryThread =
  | { kind: 'log'; line: string }
  | { kind: 'closed' }
  | { kind: 'starved'; what: 'events waited' | 'a record held the database'; ms: number };

/** How the delivery thread is scheduled (`webhooks.deliveryPriority`, docs/webhooks.md). */
export type DeliveryPriority = 'idle' | 'normal';

/** An idle thread that finds events this old at its claim has fallen behind (ms). */
export const starvedAfterMs = 1000;

/** An idle thread whose record's transaction took this long has been preempted inside it (ms; median ~5). */
export const slowHoldAfterMs = 250;

/** A thread started because the idle one fell behind keeps normal priority this long, then goes idle (ms). */
export const rescueIdleAfterMs = 60_000;

/** The outcomes of the retries the thread's job worker runs are committed together this often (ms). */
export const deliveryLingerMs = 50;

/** How often the thread looks at the serving thread's count of commits that wrote events (ms). */
export const deliveryLookMs = 25;

/**
 * The batch window, adapted to the rate (src/webhook-worker.ts). Claims are `claimGapMs` apart at least,
 * as they were before the window (an event that comes after a quiet spell is claimed at the next look).
 * Events that come fast, at a rate that brings a quarter of `claimBatchEvents` or more within
 * `claimWindowMs`, wait until `claimBatchEvents` of them were committed or `claimWindowMs` passed since
 * the last claim. A batch that ended is recorded with the next claim, or `claimWindowMs` after it ended if
 * none comes first. At hundreds of pushes a second a claim then takes 40-64 events instead of 10-25, so
 * the thread's fixed work per batch (the claim, a transaction and its commit, their timers) and the
 * serving connection's page cache, which each of the thread's commits empties, are paid about half as
 * often, for ~50 ms more latency.
 */
export const claimGapMs = 50;
export const claimWindowMs = 100;
export const claimBatchEvents = 64;

/** A first try that found no free slot of its target this long after its event's claim becomes a job. */
export const eventSpillMs = 1000;

/** Events the thread holds claimed and not yet recorded, at most. */
export const eventsInFlight = 512;

/**
 * The delivery thread's own V8 heap. Left to V8's defaults its young generation grew to 2 × 16 MiB and its
 * heap to 55-61 MiB resident in the webhooks bench row, next to the serving thread's 54-58 (issue 15).
 * Here the young generation is 2 × 4 MiB semi-spaces (V8 counts a third for large objects: 12 MiB), and
 * the old generation may hold 128 MiB, several times what the thread uses at the row's peak (30-50 MiB);
 * a small maximum also makes V8 grow the heap by small steps after each full collection. A thread that
 * still ran out would exit and be started again, its deliveries claimed anew after their lease.
 */
export const deliveryThreadHeap = { maxYoungGenerationSizeMb: 12, maxOldGenerationSizeMb: 128 };

/**
 * The thread that sends this process's webhook deliveries: it claims `webhook.event` jobs in batches over
 * a database connection of its own, POSTs them and records each batch's outcome in one transaction
 * (and retries failed deliveries as `webhook.deliver` jobs), so neither the requests nor their
 * bookkeeping run on the event loop that serves pushes. The serving thread only writes the event's row
 * in the change's transaction and then bumps a shared counter (no message, no syscall), which the thread
 * reads every `deliveryLookMs`. A stop asked of a running delivery job is passed on.
 */
export class DeliveryThread {
  private worker: Worker | undefined;
  /** Threads replaced because they fell behind at idle priority, finishing the batches they hold. */
  private readonly retired = new Set<Worker>();
  /** Times an idle thread fell behind and was replaced. */
  rescues = 0;
  private readonly shared = new SharedArrayBuffer(4);
  private readonly commits = new Int32Array(this.shared);
  private closing = false;
  private readonly unsubscribe: () => void;
  private readonly probe: NodeJS.Timeout;
  private probing = false;

  /**
   * The thread starts on the first delivery this process commits (`wake`), or when `runnable` finds
   * deliveries other processes wrote (probed every `probeMs` until then), not at boot: a node whose
   * projects have no webhook keeps the thread's memory (about 17 MiB) for other work.
   */
  constructor(
    private readonly init: Omit<
      DeliveryThreadInit,
      'commits' | 'lingerMs' | 'idleAfterMs' | 'starvedMs' | 'slowHoldMs'
    > & {
      priority: DeliveryPriority;
      /** `starvedAfterMs` and `slowHoldAfterMs` unless given (tests). */
      starvedMs?: number;
      slowHoldMs?: number;
    },
    private readonly d: { log: Logger; queue: JobQueue; runnable: () => Promise<boolean>; probeMs: number },
  ) {
    this.unsubscribe = d.queue.onStop((jobId) => this.send({ kind: 'stop', jobId }));
    this.probe = setInterval(() => void this.probeOnce(), d.probeMs).unref();
    void this.probeOnce();
  }

  /** Whether the thread has been started. */
  get started(): boolean {
    return this.worker !== undefined;
  }

  /** Deliveries were committed: the thread claims them (delivery-thread.ts: the batch window). */
  wake(): void {
    Atomics.add(this.commits, 0, 1);
    this.ensureStarted();
  }

  private ensureStarted(): void {
    if (this.worker || this.closing) return;
    clearInterval(this.probe);
    this.worker = this.spawn(this.initOf(this.init.priority === 'idle' ? 0 : null));
  }

  private initOf(idleAfterMs: number | null): DeliveryThreadInit {
    const { priority: _p, starvedMs, slowHoldMs, ...init } = this.init;
    return {
      ...{ ...init, commits: this.shared, lingerMs: deliveryLingerMs, idleAfterMs },
      starvedMs: starvedMs ?? starvedAfterMs,
      slowHoldMs: slowHoldMs ?? slowHoldAfterMs,
    };
  }

  /**
   * The idle thread fell behind (the machine's CPUs were taken by other work at normal priority, which
   * SCHED_IDLE yields to): a new thread at normal priority takes over the claims, and lowers itself again
   * after `rescueIdleAfterMs`. The old one stops claiming, sends and records what it holds, and ends.
   */
  private rescue(from: Worker, m: Extract<FromDeliveryThread, { kind: 'starved' }>): void {
    if (from !== this.worker || this.closing) return;
    this.rescues++;
    this.d.log.warn(
      { what: m.what, ms: Math.round(m.ms) },
      'webhook deliveries fell behind at idle priority; a delivery thread at normal priority takes over for a while',
    );
    this.retired.add(from);
    from.on('message', (m: FromDeliveryThread) => m.kind === 'closed' && void from.terminate());
    from.once('exit', () => this.retired.delete(from));
    from.postMessage({ kind: 'close' } satisfies ToDeliveryThread);
    this.worker = this.spawn(this.initOf(rescueIdleAfterMs));
  }

  private async probeOnce(): Promise<void> {
    if (this.worker || this.closing || this.probing) return;
    this.probing = true;
    try {
      if (await this.d.runnable()) this.ensureStarted();
    } catch (err) {
      this.d.log.warn({ err }, 'could not look for webhook deliveries to send');
    } finally {
      this.probing = false;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.probe);
    this.unsubscribe();
    const workers = [...(this.worker ? [this.worker] : []), ...this.retired];
    await Promise.all(
      workers.map(async (worker) => {
        const closed = new Promise<void>((resolve) => {
          worker.on('message', (m: FromDeliveryThread) => m.kind === 'closed' && resolve());
          worker.once('exit', () => resolve());
        });
        worker.postMessage({ kind: 'close' } satisfies ToDeliveryThread);
        await closed;
        await worker.terminate();
      }),
    );
  }

  private send(m: ToDeliveryThread): void {
    this.worker?.postMessage(m);
    // A job stopped may be one a replaced thread still runs.
    for (const w of this.retired) w.postMessage(m);
  }

  private spawn(init: DeliveryThreadInit): Worker {
    const worker = startThread(threadEntry('webhook-worker'), 'berth-webhooks', init, deliveryThreadHeap);
    worker.unref();
    worker.on('message', (m: FromDeliveryThread) => {
      if (m.kind === 'log') this.relay(m.line);
      else if (m.kind === 'starved') this.rescue(worker, m);
    });
    worker.on('error', (err) => this.d.log.error({ err }, 'the webhook delivery thread failed'));
    worker.on('exit', (code) => {
      if (this.closing || this.retired.has(worker) || worker !== this.worker) return;
      // Its deliveries are rows in the queue: a new thread claims them once their lease ends.
      this.d.log.error({ code }, 'the webhook delivery thread exited; starting another');
      this.worker = this.spawn(init);
    });
    return worker;
  }

  /** A log line of the thread (pino's JSON), written by this process's logger. */
  private relay(line: string): void {
    try {
      const {
        level,
        msg,
        time: _t,
        pid: _p,
        hostname: _h,
        ...fields
      } = JSON.parse(line) as {
        level: number;
        msg?: string;
        [k: string]: unknown;
      };
      const method = level >= 50 ? 'error' : level >= 40 ? 'warn' : level >= 30 ? 'info' : 'debug';
      this.d.log[method]({ ...fields, thread: 'webhooks' }, msg ?? '');
    } catch {
      this.d.log.warn({ line }, 'the webhook delivery thread wrote an unreadable log line');
    }
  }
}
