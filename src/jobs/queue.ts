import type { NewJob } from '../db/repos/jobs.js';
import type { MetaStore, Repos } from '../db/store.js';
import type { JobLogRow, JobRow, JobStatus } from '../db/tables.js';
import { AppError } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import type { JobKind } from './kind.js';

export interface EnqueueOptions {
  /** Not before this time (default: now). */
  runAfter?: Date;
  /** Makes the job a task of this execution. */
  executionId?: number;
}

export interface JobQueueDeps {
  store: Pick<MetaStore, 'jobs' | 'transaction'>;
  clock: Clock;
}

/**
 * The durable queue: job kinds are registered once at start-up, and jobs are rows written in the
 * caller's transaction, so work that must follow a change is committed with it or not at all.
 */
export class JobQueue {
  private readonly kinds = new Map<string, JobKind>();
  /** Jobs this process has added (their transactions may yet roll back): the worker's hint of new work. */
  private added = 0;
  private readonly stopListeners = new Set<(id: number) => void>();

  constructor(private readonly deps: JobQueueDeps) {}

  register<P>(kind: JobKind<P>): void {
    if (this.kinds.has(kind.kind)) throw new Error(`job kind ${kind.kind} is registered twice`);
    this.kinds.set(kind.kind, kind as JobKind);
  }

  kind(name: string): JobKind | undefined {
    return this.kinds.get(name);
  }

  kindNames(): string[] {
    return [...this.kinds.keys()];
  }

  /** How many jobs this process has added so far (a count that only grows). */
  get addedCount(): number {
    return this.added;
  }

  /** Adds a job inside the caller's transaction (`store.transaction(tx => queue.enqueue(tx, …))`). */
  async enqueue(tx: Repos, kind: string, payload: unknown, options: EnqueueOptions = {}): Promise<number> {
    const now = this.deps.clock.now();
    this.added++;
    return tx.jobs.insert(this.row(kind, payload, options, now), now.toISOString());
  }

  /** A job's row, its payload checked against its kind. */
  private row(kind: string, payload: unknown, options: EnqueueOptions, now: Date): NewJob {
    const def = this.kinds.get(kind);
    if (!def) throw new AppError('BAD_REQUEST', `unknown job kind ${kind}`);
    const parsed = def.payload.safeParse(payload);
    if (!parsed.success) {
      throw new AppError('BAD_REQUEST', `invalid payload for job kind ${kind}: ${parsed.error.message}`);
    }
    return {
      kind,
      payload: JSON.stringify(parsed.data),
      maxAttempts: def.retry.maxAttempts,
      runAfter: (options.runAfter ?? now).toISOString(),
      executionId: options.executionId ?? null,
      groupKey: def.group ? `${kind}:${def.group.of(parsed.data)}` : null,
    };
  }

  /** Adds several jobs of one kind inside the caller's transaction, in one statement. */
  async enqueueMany(
    tx: Repos,
    kind: string,
    jobs: { payload: unknown; options?: EnqueueOptions }[],
  ): Promise<void> {
    const now = this.deps.clock.now();
    this.added += jobs.length;
    await tx.jobs.insertMany(
      jobs.map((j) => this.row(kind, j.payload, j.options ?? {}, now)),
      now.toISOString(),
    );
  }

  /** Adds a job in a transaction of its own. */
  add(kind: string, payload: unknown, options: EnqueueOptions = {}): Promise<number> {
    return this.deps.store.transaction((tx) => this.enqueue(tx, kind, payload, options));
  }

  get(id: number): Promise<JobRow | undefined> {
    return this.deps.store.jobs.find(id);
  }

  /**
   * Stops a job: at once when pending, cooperatively (its handler's signal aborts) when running. A job
   * running in this process is aborted now; one running on another node sees the flag at its next heartbeat.
   */
  async stop(id: number): Promise<JobStatus> {
    const status = await this.deps.store.jobs.requestStop(id, this.deps.clock.now().toISOString());
    if (!status) throw new AppError('NOT_FOUND', `job ${id} not found`);
    if (status === 'running') this.stopped(id);
    return status;
  }

  /** A running job was stopped through another thread's queue: its handler here aborts now. */
  stopped(id: number): void {
    for (const fn of this.stopListeners) fn(id);
  }

  /** Calls `fn` with the id of each running job stopped through this queue; returns the unsubscribe. */
  onStop(fn: (id: number) => void): () => void {
    this.stopListeners.add(fn);
    return () => this.stopListeners.delete(fn);
  }

  logs(id: number, after?: number, limit?: number): Promise<JobLogRow[]> {
    return this.deps.store.jobs.logs(id, after, limit);
  }
}

/** A job's whole log as text, one `<time> <line>` per line, its final error last (the API's log views). */
export async function jobLogText(store: Pick<Repos, 'jobs'>, job: JobRow): Promise<string> {
  const lines: string[] = [];
  let after = 0;
  for (;;) {
    const page = await store.jobs.logs(job.id, after, 1000);
    lines.push(...page.map((l) => `${l.time} ${l.line}`));
    if (page.length < 1000) break;
    after = page.at(-1)!.id;
  }
  if (job.status === 'failed' && job.last_error) lines.push(`error: ${job.last_error}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}
