import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { MetaStore, Repos } from '../db/store.js';
import type { JobRow } from '../db/tables.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import {
  backoffMs,
  PermanentJobError,
  type JobContext,
  type JobKind,
  type OutcomeHook,
  type SettleBatch,
} from './kind.js';
import type { JobQueue } from './queue.js';
import { Settlements, type LogLine } from './settlements.js';
import { EarliestTimer } from '../lib/earliest-timer.js';

export interface JobWorkerOptions {
  store: Pick<MetaStore, 'jobMonitor' | 'jobs' | 'transaction'>;
  queue: JobQueue;
  clock: Clock;
  log: Logger;
  /** Jobs run at once by this process, over all kinds. */
  workers: number;
  /** Per-kind caps within `workers`. */
  concurrency?: Record<string, number>;
  /** A claimed job is reclaimable by another worker this long after its last heartbeat. */
  leaseMs: number;
  /** How often to look for work when idle. */
  pollMs: number;
  /** Identifies this worker in lease_owner (default: host:pid:random). */
  owner?: string;
  /**
   * A worker in a thread of its own: it claims only the kinds marked `thread` (the shared worker claims
   * only the others), keeps no pool row on the dashboard, and batches its bookkeeping: a wake claims after
   * `lingerMs`, outcomes are committed together every `lingerMs`, and a run frees its slot when it ends
   * rather than when its outcome is committed. On SQLite each of this connection's commits takes the one
   * write lock from the serving thread, and tells its read cache that something changed, so fewer is better.
   */
  thread?: { lingerMs: number };
}

/** How often a worker refreshes its pool row; the dashboard drops pools silent for 6 beats. */
export const poolBeatMs = 5_000;

/**
 * How long a wake waits before claiming, so the jobs of changes committed close together (pushes with
 * webhooks, several a millisecond apart) are claimed by one statement rather than one each.
 */
export const wakeLingerMs = 20;

type Outcome = 'done' | 'stop' | 'lost' | 'shutdown';
const stopRequested = 'stop requested';

/** Claims jobs with a lease, runs their handlers, heartbeats, and records the outcome. */
export class JobWorker {
  readonly owner: string;
  private readonly running = new Map<
    number,
    { kind: string; group: string | null; abort: AbortController; done: Promise<void> }
  >();
  private readonly timer = new EarliestTimer(
    () => void this.tick().finally(() => this.schedule(this.o.pollMs)),
  );
  private ticking = false;
  private again = false;
  private wokenMidTick = false;
  /** `queue.addedCount` when the last claim began. */
  private addedAtClaim = 0;
  private closed = false;
  private started = false;
  private lastReap = 0;
  private lastBeat = 0;
  private readonly settlements: Settlements;
  private readonly unsubscribe: () => void;

  constructor(private readonly o: JobWorkerOptions) {
    this.owner = o.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.settlements = new Settlements({
      ...{ store: o.store, clock: o.clock, owner: this.owner },
      ...(o.thread ? { lingerMs: o.thread.lingerMs } : {}),
    });
    // A stop asked of this process reaches its job now, not at the next heartbeat (up to 2 s later).
    this.unsubscribe = o.queue.onStop((id) => this.running.get(id)?.abort.abort(stopRequested));
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.schedule(0);
  }

  /**
   * Looks for work soon (after `wakeLingerMs`) rather than at the next poll: a change just enqueued a job
   * this node can run.
   */
  wake(): void {
    if (this.ticking) this.wokenMidTick = true;
    else this.schedule(this.linger);
  }

  /** Stops claiming, aborts running handlers and hands their jobs back to the queue. */
  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    this.timer.cancel();
    for (const r of this.running.values()) r.abort.abort('shutdown');
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
    await this.settlements.drain();
    if (this.lastBeat > 0)
      await this.o.store.jobMonitor
        .deletePool(this.owner)
        .catch((err: unknown) => this.o.log.warn({ err }, 'could not remove this worker pool row'));
  }

  /** Claims and starts as many jobs as there are free slots. Exposed for tests. */
  async tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      await this.beat();
      await this.reap();
      this.again = true;
      while (this.again && !this.closed) {
        this.again = false;
        await this.fill();
      }
    } catch (err) {
      this.o.log.warn({ err }, 'job worker could not claim work');
    } finally {
      this.ticking = false;
      if (this.wokenMidTick) {
        this.wokenMidTick = false;
        this.schedule(this.linger);
      }
    }
  }

  /** Claims batches of jobs until the free slots are filled or the queue has nothing more for them. */
  private async fill(): Promise<void> {
    while (!this.closed) {
      const room = this.room();
      if (room.limit === 0) return;
      const now = this.o.clock.now();
      this.addedAtClaim = this.o.queue.addedCount;
      const claim = (jobs: Pick<Repos, 'jobs'>['jobs']) =>
        jobs.claimBatch({
          ...room,
          owner: this.owner,
          now: now.toISOString(),
          leaseUntil: new Date(now.getTime() + this.o.leaseMs).toISOString(),
        });
      // A job is never seen running without its start line: the line is written in the claim's
      // transaction, unless the kind writes its log with its outcome (then no transaction is needed).
      const writesAtOnce = (kind: string) => !this.o.queue.kind(kind)?.logWithOutcome;
      const rows = room.kinds.some(writesAtOnce)
        ? await this.o.store.transaction(async (tx) => {
            const claimed = await claim(tx.jobs);
            await tx.jobs.appendLogs(
              claimed
                .filter((r) => writesAtOnce(r.kind))
                .map((r) => ({ jobId: r.id, time: now.toISOString(), line: this.startLine(r) })),
            );
            return claimed;
          })
        : await claim(this.o.store.jobs);
      for (const row of rows) this.launch(row);
      if (rows.length < room.limit) return;
    }
  }

  private get linger(): number {
    return this.o.thread?.lingerMs ?? wakeLingerMs;
  }

  /** Ticks in `delayMs`, unless a tick is already due sooner. */
  private schedule(delayMs: number): void {
    if (this.closed || !this.started) return;
    this.timer.in(delayMs);
  }

  /**
   * What this worker may claim now: the kinds with a free slot, the room of each slot pool (the shared
   * `workers`, and each kind that has a pool of its own), each capped kind and each group.
   */
  private room() {
    const byKind = new Map<string, number>();
    const byGroup = new Map<string, { n: number; kind: string }>();
    for (const r of this.running.values()) {
      byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
      if (r.group) byGroup.set(r.group, { n: (byGroup.get(r.group)?.n ?? 0) + 1, kind: r.kind });
    }
    let shared = this.o.workers;
    for (const [k, n] of byKind) if (!this.o.queue.kind(k)?.pool) shared -= n;
    const poolRoom: Record<string, number> = { '': Math.max(0, shared) };
    const poolOf: Record<string, string> = {};
    const kindRoom: Record<string, number> = {};
    const groupCap: Record<string, number> = {};
    const kinds: string[] = [];
    for (const name of this.o.queue.kindNames()) {
      const kind = this.o.queue.kind(name)!;
      if (!kind.thread !== !this.o.thread) continue;
      const running = byKind.get(name) ?? 0;
      const cap = this.o.concurrency?.[name];
      if (kind.group) groupCap[name] = kind.group.cap;
      if (kind.pool) {
        poolOf[name] = name;
        poolRoom[name] = Math.max(0, (cap ?? kind.pool.slots) - running);
        if (poolRoom[name] > 0) kinds.push(name);
      } else if (cap === undefined) {
        if (shared > 0) kinds.push(name);
      } else if (Math.min(shared, cap - running) > 0) {
        kinds.push(name);
        kindRoom[name] = cap - running;
      }
    }
    const fullGroups: string[] = [];
    const groupRoom: Record<string, number> = {};
    for (const [g, { n, kind }] of byGroup) {
      const left = (this.o.queue.kind(kind)?.group?.cap ?? Infinity) - n;
      if (left <= 0) fullGroups.push(g);
      else groupRoom[g] = left;
    }
    const pools = new Set(kinds.map((k) => poolOf[k] ?? ''));
    const limit = [...pools].reduce((n, p) => n + poolRoom[p]!, 0);
    return { kinds, limit, poolRoom, poolOf, kindRoom, groupRoom, groupCap, fullGroups };
  }

  /** Keeps this worker's pool row (the dashboard's list of workers across nodes) fresh. */
  private async beat(): Promise<void> {
    const now = this.o.clock.now();
    if (this.o.thread || now.getTime() - this.lastBeat < poolBeatMs) return;
    const iso = now.toISOString();
    if (this.lastBeat === 0)
      await this.o.store.jobMonitor.savePool({
        id: this.owner,
        pid: process.pid,
        host: hostname(),
        concurrency: this.o.workers,
        start_time: iso,
        heartbeat_time: iso,
      });
    else await this.o.store.jobMonitor.heartbeatPool(this.owner, iso);
    this.lastBeat = now.getTime();
  }

  private async reap(): Promise<void> {
    const now = this.o.clock.now();
    if (now.getTime() - this.lastReap < Math.min(this.o.leaseMs, 5000)) return;
    this.lastReap = now.getTime();
    const n = await this.o.store.jobs.reapExpired(now.toISOString());
    if (n > 0) this.o.log.warn({ jobs: n }, 'settled jobs whose worker died');
  }

  private launch(row: JobRow): void {
    const abort = new AbortController();
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      const capped = this.atCap(row.kind, row.group_key);
      this.running.delete(row.id);
      // A slot that a cap held is free: what the cap left in the queue may run now, not at the next
      // poll. Below every cap the last claim took all there was, unless jobs were added since (by this
      // job, or by changes whose wake lingers): then a claim soon takes them with the others.
      if (capped) this.schedule(0);
      else if (this.o.queue.addedCount !== this.addedAtClaim) this.schedule(this.linger);
    };
    const done = this.execute(row, abort, this.o.thread ? free : undefined)
      .catch((err: unknown) => this.o.log.error({ err, job: row.id }, 'job bookkeeping failed'))
      .finally(free);
    this.running.set(row.id, { kind: row.kind, group: row.group_key, abort, done });
  }

  /** Whether a running job of `kind` in `group` fills its slot pool, its kind's cap or its group's. */
  private atCap(kind: string, group: string | null): boolean {
    const def = this.o.queue.kind(kind);
    const cap = this.o.concurrency?.[kind];
    let inPool = 0;
    let ofKind = 0;
    let inGroup = 0;
    for (const r of this.running.values()) {
      if (r.kind === kind) ofKind++;
      if (def?.pool ? r.kind === kind : !this.o.queue.kind(r.kind)?.pool) inPool++;
      if (group !== null && r.group === group) inGroup++;
    }
    if (inPool >= (def?.pool ? (cap ?? def.pool.slots) : this.o.workers)) return true;
    if (!def?.pool && cap !== undefined && ofKind >= cap) return true;
    return def?.group !== undefined && inGroup >= def.group.cap;
  }

  /** Runs a claimed job and records its outcome; `ended`, when given, is called between the two. */
  private async execute(row: JobRow, abort: AbortController, ended?: () => void): Promise<void> {
    const { store, clock } = this.o;
    const iso = () => clock.now().toISOString();
    const kind = this.o.queue.kind(row.kind) as JobKind;
    // Lines logged while the job runs are written at once (after a crash the log still says how far it
    // got), unless the kind writes its log with its outcome; the closing line is written in the
    // transaction that records the outcome.
    const held: LogLine[] = [];
    // Lines logged in one turn of the event loop go in one INSERT (a scan logs its scanning process's
    // lines one after another: one statement and commit each, before), and the INSERTs one after another,
    // so the lines keep their order on any database.
    let batch: LogLine[] | undefined;
    let written: Promise<void> = Promise.resolve();
    const log = (line: string): Promise<void> => {
      if (kind.logWithOutcome) {
        held.push({ time: iso(), line });
        return Promise.resolve();
      }
      if (!batch) {
        const lines: LogLine[] = (batch = []);
        written = written.then(async () => {
          batch = undefined;
          try {
            await store.jobs.appendLogs(lines.map((l) => ({ jobId: row.id, ...l })));
          } catch (err) {
            this.o.log.warn({ err, job: row.id }, 'could not write a job log line');
          }
        });
      }
      batch.push({ time: iso(), line });
      return written;
    };
    let outcome = 'done' as Outcome;
    const heartbeat = setInterval(
      () => {
        const now = clock.now();
        const until = new Date(now.getTime() + this.o.leaseMs).toISOString();
        store.jobs
          .heartbeat(row.id, this.owner, now.toISOString(), until)
          .then((beat) => {
            if (!beat) {
              outcome = 'lost';
              abort.abort('lease lost');
            } else if (beat.stop) abort.abort(stopRequested);
          })
          .catch((err: unknown) => this.o.log.warn({ err, job: row.id }, 'job heartbeat failed'));
      },
      Math.max(50, Math.min(this.o.leaseMs / 3, 2000)),
    );
    abort.signal.addEventListener('abort', () => {
      if (abort.signal.reason === 'shutdown') outcome = 'shutdown';
      else if (abort.signal.reason === stopRequested) outcome = 'stop';
    });

    const hooks: OutcomeHook[] = [];
    let error: unknown;
    try {
      if (kind.logWithOutcome) await log(this.startLine(row));
      const parsed = kind.payload.safeParse(JSON.parse(row.payload));
      if (!parsed.success) throw new PermanentJobError(`invalid payload: ${parsed.error.message}`);
      const ctx: JobContext = {
        jobId: row.id,
        attempt: row.attempts,
        maxAttempts: row.max_attempts,
        executionId: row.execution_id,
        signal: abort.signal,
        log,
        onOutcome: (fn) => hooks.push(fn),
      };
      await kind.run(parsed.data, ctx);
    } catch (err) {
      error = err;
    } finally {
      clearInterval(heartbeat);
    }

    const now = iso();
    if (outcome === 'lost') {
      this.o.log.warn({ job: row.id }, 'lost the lease of a running job; another worker owns it now');
      return;
    }
    let closing: string;
    let settle: ((tx: Repos, batch: SettleBatch) => Promise<unknown>) | undefined;
    if (outcome === 'shutdown') {
      closing = 'interrupted by a worker shutdown; the job goes back to the queue';
      settle = (tx) => tx.jobs.release(row.id, this.owner, now);
    } else if (outcome === 'stop') {
      closing = 'stopped';
      settle = (tx) => tx.jobs.finish(row.id, this.owner, 'stopped', now);
    } else if (error === undefined) {
      closing = 'succeeded';
      // Recorded with the batch's other successes in one statement; the hooks run if it was still ours.
      if (hooks.length > 0) settle = (tx, batch) => this.runHooks(tx, 'succeeded', hooks, batch);
    } else {
      const message = messageOf(error);
      if (error instanceof PermanentJobError || row.attempts >= row.max_attempts) {
        closing = `failed: ${message}`;
        settle = (tx, batch) => this.final(tx, row, 'failed', now, hooks, batch, message);
      } else {
        const delay = backoffMs(kind.retry, row.attempts);
        closing = `failed: ${message}; retrying in ${(delay / 1000).toFixed(1)} s`;
        const at = new Date(clock.now().getTime() + delay).toISOString();
        settle = (tx) => tx.jobs.retry(row.id, this.owner, at, now, message);
      }
    }
    ended?.();
    // The closing line comes after the lines logged while it ran.
    await written;
    const after = await this.settlements.add({
      jobId: row.id,
      lines: [...held, { time: now, line: closing }],
      ...(settle ? { settle } : {}),
      ...(outcome === 'done' && error === undefined ? { plainSuccess: true } : {}),
    });
    if (typeof after === 'function') (after as () => void)();
  }

  private startLine(row: JobRow): string {
    return `attempt ${row.attempts} of ${row.max_attempts} started on ${this.owner}`;
  }

  /** Records a final outcome and runs the job's outcome hooks with it, in `tx`, while the lease holds. */
  private async final(
    tx: Repos,
    row: JobRow,
    outcome: 'succeeded' | 'failed',
    now: string,
    hooks: OutcomeHook[],
    batch: SettleBatch,
    message?: string,
  ): Promise<(() => void) | undefined> {
    if (!(await tx.jobs.finish(row.id, this.owner, outcome, now, message ?? null))) return undefined;
    return this.runHooks(tx, outcome, hooks, batch);
  }

  /** Runs a job's outcome hooks in `tx`; what they return runs after the commit. */
  private async runHooks(
    tx: Repos,
    outcome: 'succeeded' | 'failed',
    hooks: OutcomeHook[],
    batch: SettleBatch,
  ): Promise<() => void> {
    const after: (() => void)[] = [];
    for (const hook of hooks) {
      const then = await hook(tx, outcome, batch);
      if (then) after.push(then);
    }
    return () => {
      for (const then of after) then();
    };
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
