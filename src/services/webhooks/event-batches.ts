import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ClaimedJob, RanJob } from '../../db/repos/jobs.js';
import type { MetaStore, Repos } from '../../db/store.js';
import type { ProjectRow } from '../../db/tables.js';
import { backoffMs } from '../../jobs/kind.js';
import { eventPayload, type DeliveryPayload, type WebhookRetry } from '../../jobs/kinds/webhook.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { ExecutionRepo } from '../../db/repos/executions.js';
import type { FormattedPayload, WebhookEvent } from './payloads.js';
import type { TargetGate } from './target-gate.js';
import { fanOut, type FannedOut } from './webhook-fanout.js';
import { readPolicy, type WebhookPolicy } from './webhook-policies.js';
import type { PostOptions, SendResult } from './webhook-sender.js';
import { EarliestTimer } from '../../lib/earliest-timer.js';

export interface EventBatchesDeps {
  store: Pick<MetaStore, 'transaction' | 'jobs' | 'projects' | 'notificationPolicies'>;
  clock: Clock;
  log: Logger;
  post(address: string, headers: Record<string, string>, body: string, o: PostOptions): Promise<SendResult>;
  /** Requests in flight per target, shared with the job worker's retries. */
  gate: TargetGate;
  retry: WebhookRetry;
  leaseMs: number;
  /** How often to look for events when nothing woke the batches (events other processes wrote). */
  pollMs: number;
  /**
   * A batch that ended is recorded with the next claim (a `wake`), or this long after it ended if no
   * claim came first: the outcomes of batches that end this close together share one transaction.
   */
  lingerMs: number;
  /**
   * A delivery that has found no free slot of its target this long after its batch was claimed is
   * written as a pending `webhook.deliver` job instead (the job worker sends it), so a slow target does
   * not hold its batch's record back.
   */
  spillMs: number;
  /** Events claimed and not yet recorded, at most. */
  maxEvents: number;
  /** After a record wrote deliveries as pending jobs: the job worker claims them. */
  queued(): void;
  /** Each claim's events, before they are sent (the thread's check that it keeps up). */
  claimed?(rows: readonly ClaimedJob[]): void;
  /** How long a record's transaction held the database (ms, from its begin to its commit). */
  held?(ms: number): void;
}

type Outcome =
  | { kind: 'sent'; status: number; ms: number; start: string; end: string }
  | { kind: 'failed'; message: string; start: string; end: string }
  | { kind: 'spilled' };

interface Delivery extends FannedOut {
  eventId: number;
  eventType: string;
  outcome?: Outcome;
  /**
   * A delivery that ended at its first try, as its execution row: built when its batch ended, so that the
   * record's transaction holds SQLite's write lock for its statements alone (~0.75 ms of JavaScript in a
   * ~5 ms hold per batch of ~37 events, during which every push waits: docs/webhooks.md).
   */
  row?: EndedRow;
}

type EndedRow = Parameters<ExecutionRepo['insertEnded']>[0][number];

interface Batch {
  rows: ClaimedJob[];
  /** When it was claimed (performance.now()) and as text (its executions' start time). */
  claimed: number;
  claimedAt: string;
  deliveries: Delivery[];
  /** Events whose payload could not be read: failed at once. */
  invalid: { id: number; message: string }[];
}

/** Rows per insert: within SQLite's limit of bound values. */
const perStatement = 200;

/**
 * The delivery thread's events, sent first and recorded once per batch (docs/webhooks.md, Delivery).
 * One statement claims every runnable `webhook.event` job there is room for; the thread fans them out
 * in memory (the project's policies through the read cache) and sends each request (kept-alive
 * connections, at most `retry.perTarget` in flight per target). When all of a batch's requests have
 * ended, its outcome is recorded in one transaction, together with the other batches that ended within
 * `lingerMs` and the next claim: the events done; each delivery that ended at its first try as its
 * execution row alone, carrying its task and log (one multi-row insert per vendor); and only the
 * deliveries that go on (a retry after its backoff, a first try a full target held back) as an execution
 * and a pending job that the job worker runs. No transaction is open while a request is. A crash between
 * sending and recording sends the batch again after its lease (at-least-once).
 */
export class EventBatches {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly unrecorded = new Set<Batch>();
  private readonly running = new Set<Promise<void>>();
  private finished: Batch[] = [];
  private events = 0;
  private readonly timer = new EarliestTimer(
    () => void this.tick().finally(() => this.schedule(this.d.pollMs)),
  );
  private beat: NodeJS.Timeout | undefined;
  private ticking = false;
  private again = false;
  /** Events were committed since the last claim (else a claim is only a poll for other processes' events). */
  private woken = true;
  private closed = false;
  private readonly beatMs: number;

  constructor(private readonly d: EventBatchesDeps) {
    this.beatMs = Math.max(50, Math.min(d.leaseMs / 3, 2000));
  }

  start(): void {
    this.schedule(0);
  }

  /** Events were committed: claim them now. */
  wake(): void {
    this.woken = true;
    this.schedule(0);
  }

  /**
   * Stops claiming, lets the batches in flight end (their requests have a time limit) and records them.
   * A batch still sending after `graceMs` is left claimed: sent again once its lease ends.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    this.timer.cancel();
    await Promise.race([Promise.all([...this.running]), new Promise((r) => setTimeout(r, graceMs).unref())]);
    clearInterval(this.beat);
    while (this.ticking) await new Promise((r) => setTimeout(r, 5));
    if (this.finished.length > 0) await this.tick(true);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer.in(delayMs);
  }

  /** Records the batches that ended and claims new events, in one transaction when there is both. */
  private async tick(final = false): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.again = false;
        const finished = this.finished;
        this.finished = [];
        const now = this.d.clock.now();
        const claim = {
          owner: this.owner,
          now: now.toISOString(),
          leaseUntil: new Date(now.getTime() + this.d.leaseMs).toISOString(),
          limit: this.closed ? 0 : this.d.maxEvents - this.events,
        };
        let rows: ClaimedJob[] = [];
        let queued = false;
        try {
          // A poll looks with a read first: a claim is a write, and on SQLite it takes the write lock.
          const poll = !this.woken;
          this.woken = false;
          if (finished.length === 0) {
            const runnable = () => this.d.store.jobs.hasRunnable(['webhook.event'], claim.now);
            if (claim.limit > 0 && (!poll || (await runnable())))
              rows = await this.d.store.jobs.claimOfKind('webhook.event', claim);
          } else {
            let began = 0;
            rows = await this.d.store.transaction(async (tx) => {
              began = performance.now();
              queued = await this.record(tx, finished, now);
              return tx.jobs.claimOfKind('webhook.event', claim);
            });
            this.d.held?.(performance.now() - began);
          }
        } catch (err) {
          // Recorded with the next tick; their leases are kept meanwhile.
          this.finished.push(...finished);
          throw err;
        }
        for (const b of finished) {
          this.unrecorded.delete(b);
          this.events -= b.rows.length;
        }
        if (queued) this.d.queued();
        if (rows.length > 0) this.launch(rows, now);
        if (claim.limit > 0 && rows.length === claim.limit) this.again = true;
      } while (this.again && !final && !this.closed);
    } catch (err) {
      this.d.log.warn({ err }, 'could not claim or record webhook events');
    } finally {
      this.ticking = false;
      if (this.unrecorded.size === 0) {
        clearInterval(this.beat);
        this.beat = undefined;
      }
    }
  }

  private launch(rows: ClaimedJob[], now: Date): void {
    this.d.claimed?.(rows);
    const batch: Batch = {
      rows,
      claimed: performance.now(),
      claimedAt: now.toISOString(),
      deliveries: [],
      invalid: [],
    };
    this.events += rows.length;
    this.unrecorded.add(batch);
    this.beat ??= setInterval(() => void this.extendLeases(), this.beatMs);
    const run: Promise<void> = this.send(batch)
      .catch((err: unknown) => this.d.log.error({ err }, 'a batch of webhook events failed'))
      .finally(() => {
        this.running.delete(run);
        for (const x of batch.deliveries) x.row = this.endedRowOf(x, batch.claimedAt);
        this.finished.push(batch);
        this.schedule(this.d.lingerMs);
      });
    this.running.add(run);
  }

  /** Fans the batch's events out and sends every request; resolves when all have ended or spilled. */
  private async send(batch: Batch): Promise<void> {
    const projects = new Map<
      number,
      Promise<{ project: ProjectRow; policies: WebhookPolicy[] } | undefined>
    >();
    const of = (projectId: number) => {
      let p = projects.get(projectId);
      if (!p) projects.set(projectId, (p = this.subscriptions(projectId)));
      return p;
    };
    for (const row of batch.rows) {
      let parsed;
      try {
        parsed = eventPayload.safeParse(JSON.parse(row.payload));
      } catch (err) {
        batch.invalid.push({ id: row.id, message: `invalid payload: ${String(err)}` });
        continue;
      }
      if (!parsed.success) {
        batch.invalid.push({ id: row.id, message: `invalid payload: ${parsed.error.message}` });
        continue;
      }
      const found = await of(parsed.data.projectId);
      if (!found) continue;
      const event = parsed.data.event as unknown as WebhookEvent;
      for (const f of fanOut(found.project, found.policies, event, `${row.id}@${row.creation_time}`))
        batch.deliveries.push({ ...f, eventId: row.id, eventType: event.type });
    }
    const spill = new AbortController();
    const wait = this.d.spillMs - (performance.now() - batch.claimed);
    const timer = setTimeout(() => spill.abort(), Math.max(0, wait));
    try {
      await Promise.all(batch.deliveries.map((x) => this.deliver(x, spill.signal)));
    } finally {
      clearTimeout(timer);
    }
  }

  private async subscriptions(projectId: number) {
    const project = await this.d.store.projects.findById(projectId);
    if (!project) return undefined;
    const policies = (await this.d.store.notificationPolicies.enabledOf(projectId)).map(readPolicy);
    return { project, policies };
  }

  /** One request, within a slot of its target; anything but 2xx fails it (Harbor's words). */
  private async deliver(x: Delivery, spill: AbortSignal): Promise<void> {
    const address = x.target.address;
    if (!(await this.d.gate.acquire(address, spill))) {
      x.outcome = { kind: 'spilled' };
      return;
    }
    const start = this.d.clock.now().toISOString();
    const t0 = performance.now();
    try {
      const res = await this.d.post(address, x.formatted.headers, x.formatted.body, {
        skipCertVerify: x.target.skip_cert_verify,
      });
      const end = this.d.clock.now().toISOString();
      x.outcome =
        res.status >= 200 && res.status < 300
          ? { kind: 'sent', status: res.status, ms: Math.round(performance.now() - t0), start, end }
          : {
              kind: 'failed',
              message: `abnormal response code: ${res.status}, body: ${res.body}`,
              start,
              end,
            };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      x.outcome = { kind: 'failed', message, start, end: this.d.clock.now().toISOString() };
    } finally {
      this.d.gate.release(address, x.outcome?.kind !== 'sent');
    }
  }

  /** Keeps the leases of batches still sending (a slow target, a long time limit). */
  private async extendLeases(): Promise<void> {
    const ids: number[] = [];
    for (const b of this.unrecorded)
      if (performance.now() - b.claimed >= this.beatMs) for (const r of b.rows) ids.push(r.id);
    if (ids.length === 0) return;
    const now = this.d.clock.now();
    const until = new Date(now.getTime() + this.d.leaseMs).toISOString();
    try {
      for (let i = 0; i < ids.length; i += 500)
        await this.d.store.jobs.extendLeases(ids.slice(i, i + 500), this.owner, now.toISOString(), until);
    } catch (err) {
      this.d.log.warn({ err }, 'could not extend the leases of webhook events');
    }
  }

  /**
   * The batches' outcomes, in `tx`: their events done (those whose lease is still ours), and each
   * delivery's execution, task and log. True when some delivery was written as a pending job.
   */
  private async record(tx: Repos, batches: Batch[], now: Date): Promise<boolean> {
    const iso = now.toISOString();
    const valid: number[] = [];
    for (const b of batches) {
      for (const bad of b.invalid) await tx.jobs.finish(bad.id, this.owner, 'failed', iso, bad.message);
      const invalid = new Set(b.invalid.map((x) => x.id));
      for (const r of b.rows) if (!invalid.has(r.id)) valid.push(r.id);
    }
    const ours = new Set<number>();
    for (let i = 0; i < valid.length; i += 500)
      for (const id of await tx.jobs.finishSucceeded(valid.slice(i, i + 500), this.owner, iso)) ours.add(id);
    const all = batches.flatMap((b) =>
      b.deliveries.filter((x) => ours.has(x.eventId)).map((x) => ({ x, at: b.claimedAt })),
    );
    let queued = false;
    for (let i = 0; i < all.length; i += perStatement)
      queued = (await this.recordSome(tx, all.slice(i, i + perStatement), iso)) || queued;
    return queued;
  }

  /** A delivery that ended at its first try (sent, or failed with no try left) as its execution row. */
  private endedRowOf(x: Delivery, at: string): EndedRow | undefined {
    const { maxAttempts } = this.d.retry;
    const o = x.outcome ?? { kind: 'spilled' as const };
    if (o.kind === 'spilled' || (o.kind === 'failed' && maxAttempts > 1)) return undefined;
    const started = `${o.start} attempt 1 of ${maxAttempts} started on ${this.owner}\n`;
    const log =
      o.kind === 'sent'
        ? `${started}${o.end} sent the ${x.target.type} request to ${x.target.address}: ${o.status} in ${o.ms} ms\n${o.end} succeeded\n`
        : `${started}${o.end} failed: ${o.message}\nerror: ${o.message}\n`;
    return {
      vendorId: x.policy.id,
      trigger: 'EVENT',
      status: o.kind === 'sent' ? 'Success' : 'Error',
      statusMessage: o.kind === 'sent' ? '' : o.message,
      extraAttrs: extraAttrsOf(x),
      startTime: at,
      endTime: o.end,
      taskStartTime: o.start,
      taskLog: log,
    };
  }

  /**
   * One statement's worth of deliveries. A delivery that ended at its first try (sent, or failed with no
   * try left) is its execution row alone, carrying its task's start and log (migration 0022); one that
   * goes on (a retry after its backoff, or a first try a full target held back) is an execution and a
   * pending `webhook.deliver` job, with the log of its first try.
   */
  private async recordSome(tx: Repos, some: { x: Delivery; at: string }[], now: string): Promise<boolean> {
    const { maxAttempts, retryDelayMs } = this.d.retry;
    const ended: Record<'WEBHOOK' | 'SLACK', EndedRow[]> = {
      WEBHOOK: [],
      SLACK: [],
    };
    const going: { x: Delivery; at: string; o: Outcome }[] = [];
    for (const { x, at } of some) {
      if (x.row) ended[x.target.type === 'slack' ? 'SLACK' : 'WEBHOOK'].push(x.row);
      else going.push({ x, at, o: x.outcome ?? { kind: 'spilled' } });
    }
    for (const vendor of ['WEBHOOK', 'SLACK'] as const)
      if (ended[vendor].length > 0) await tx.executions(vendor).insertEnded(ended[vendor], now);
    if (going.length === 0) return false;

    const executionOf = new Map<Delivery, number>();
    for (const vendor of ['WEBHOOK', 'SLACK'] as const) {
      const mine = going.filter(({ x }) => (x.target.type === 'slack' ? 'SLACK' : 'WEBHOOK') === vendor);
      if (mine.length === 0) continue;
      // One start time per statement: the claim of the first among them.
      const ids = await tx.executions(vendor).createMany(
        mine.map(({ x }) => ({
          vendorId: x.policy.id,
          trigger: 'EVENT',
          // `event_type` first: the last-trigger lookup matches on this prefix.
          extraAttrs: { event_type: x.eventType, payload: x.formatted.body },
          status: 'Pending' as const,
        })),
        mine[0]!.at,
      );
      mine.forEach(({ x }, i) => executionOf.set(x, ids[i]!));
    }
    const policy = { maxAttempts, baseDelayMs: retryDelayMs, maxDelayMs: 5 * 60_000 };
    const jobs: RanJob[] = [];
    const logs: { time: string; line: string }[] = [];
    for (const { x, at, o } of going) {
      const payload: DeliveryPayload = {
        policyId: x.policy.id,
        notifyType: x.target.type,
        address: x.target.address,
        headers: x.formatted.headers,
        body: x.formatted.body,
        skipCertVerify: x.target.skip_cert_verify,
      };
      const base = {
        kind: 'webhook.deliver',
        maxAttempts,
        executionId: executionOf.get(x)!,
        groupKey: `webhook.deliver:${x.target.address}`,
        creationTime: at,
        payload: JSON.stringify(payload),
        status: 'pending' as const,
        endTime: null,
      };
      if (o.kind === 'spilled') {
        jobs.push({ ...base, runAfter: now, attempts: 0, lastError: null, startTime: null });
        logs.push({ time: now, line: '' });
      } else if (o.kind === 'failed') {
        const delay = backoffMs(policy, 1);
        jobs.push({
          ...base,
          runAfter: new Date(Date.parse(o.end) + delay).toISOString(),
          attempts: 1,
          lastError: o.message,
          startTime: o.start,
        });
        const started = `attempt 1 of ${maxAttempts} started on ${this.owner}`;
        const closing = `failed: ${o.message}; retrying in ${(delay / 1000).toFixed(1)} s`;
        logs.push({ time: o.start, line: `${started}\n${o.end} ${closing}` });
      }
    }
    const ids = await tx.jobs.insertRan(jobs, now);
    await tx.jobs.appendLogs(
      logs.flatMap((l, i) => (l.line === '' ? [] : [{ jobId: ids[i]!, time: l.time, line: l.line }])),
    );
    return true;
  }
}

/**
 * A delivery's execution `extra_attrs` (`event_type` first: the last-trigger lookup matches on this
 * prefix), as JSON.stringify writes `{event_type, payload}`; made once per rendered body, which an event's
 * Default and Slack targets share.
 */
function extraAttrsOf(x: Delivery): string {
  let text = extraAttrsText.get(x.formatted);
  if (text === undefined) {
    text = `{"event_type":${JSON.stringify(x.eventType)},"payload":${JSON.stringify(x.formatted.body)}}`;
    extraAttrsText.set(x.formatted, text);
  }
  return text;
}

const extraAttrsText = new WeakMap<FormattedPayload, string>();
