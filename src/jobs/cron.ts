import { Cron } from 'croner';
import type { MetaStore, Repos } from '../db/store.js';
import type { ScheduleRow } from '../db/tables.js';
import { AppError } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { JobQueue } from './queue.js';

export interface CronSchedulerOptions {
  store: Pick<MetaStore, 'schedules' | 'transaction'>;
  queue: JobQueue;
  clock: Clock;
  log: Logger;
  /** How often due schedules are looked for (default 1 s, the resolution of a 6-field cron). */
  tickMs?: number;
}

export interface ScheduleInput {
  /** Unique: one schedule per name (e.g. `replication.policy.7`). */
  name: string;
  /** Harbor's 6-field cron, seconds first (`0 0 * * * *` = hourly). Evaluated in UTC. */
  cron: string;
  kind: string;
  payload: unknown;
  enabled?: boolean;
}

/** The cron scheduler's entry in the job service dashboard's queues (Harbor's job type for it). */
export const schedulerQueue = 'SCHEDULER';

/** Harbor's schedule types (`ScheduleObj.type`): periodic ones, run now (Manual), or cancel (None). */
export const scheduleTypes = ['Hourly', 'Daily', 'Weekly', 'Custom', 'Schedule', 'Manual', 'None'] as const;
export type ScheduleType = (typeof scheduleTypes)[number];

const presetCrons: Partial<Record<ScheduleType, string>> = {
  Hourly: '0 0 * * * *',
  Daily: '0 0 0 * * *',
  Weekly: '0 0 0 * * 0',
};

/**
 * The cron of a periodic schedule type: the one given (Harbor's UI always sends it), else the preset of
 * Hourly, Daily or Weekly. Validated; BAD_REQUEST when Custom comes without one.
 */
export function cronOf(type: ScheduleType, cron: string | undefined): string {
  const expression = cron?.trim() || presetCrons[type];
  if (!expression) throw new AppError('BAD_REQUEST', `a ${type} schedule needs a cron expression`);
  parseCron(expression);
  return expression;
}

/** The type Harbor's UI shows for a stored cron: a preset's name when it is one, else Custom. */
export function scheduleTypeOf(cron: string): 'Hourly' | 'Daily' | 'Weekly' | 'Custom' {
  for (const type of ['Hourly', 'Daily', 'Weekly'] as const) if (presetCrons[type] === cron) return type;
  return 'Custom';
}

/** Parses a 6-field cron expression; throws BAD_REQUEST naming the problem. */
export function parseCron(expression: string): Cron {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new AppError(
      'BAD_REQUEST',
      `invalid cron "${expression}": expected 6 fields (second minute hour day-of-month month day-of-week)`,
    );
  }
  try {
    // A fixed offset rather than timeZone 'UTC': the same instants, without croner going through Intl, which
    // maps ICU's ~8 MiB of locale data into every process.
    return new Cron(expression, { paused: true, utcOffset: 0 });
  } catch (err) {
    throw new AppError('BAD_REQUEST', `invalid cron "${expression}": ${(err as Error).message}`);
  }
}

/** The first fire time strictly after `after`, or null if the expression never fires again. */
export function nextFire(expression: string, after: Date): Date | null {
  return parseCron(expression).nextRun(after);
}

/**
 * Fires due schedules by enqueueing their job. Every node may run a scheduler: a tick takes an advisory
 * lock (PostgreSQL) and claims each (schedule, fire time) with a unique row in the same transaction as the
 * enqueue, so a fire happens exactly once. A fire missed while no node ran fires once, late; missed
 * fires are not replayed one by one.
 */
export class CronScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly o: CronSchedulerOptions) {}

  /**
   * Creates or replaces a schedule (validated: the cron and the job's payload); in `tx` when given, so
   * the schedule commits with the change that owns it.
   */
  async upsert(input: ScheduleInput, tx: Pick<Repos, 'schedules'> = this.o.store): Promise<ScheduleRow> {
    const now = this.o.clock.now();
    const next = nextFire(input.cron, now);
    const kind = this.o.queue.kind(input.kind);
    if (!kind) throw new AppError('BAD_REQUEST', `unknown job kind ${input.kind}`);
    const payload = kind.payload.safeParse(input.payload);
    if (!payload.success) throw new AppError('BAD_REQUEST', `invalid payload: ${payload.error.message}`);
    return tx.schedules.upsert(
      {
        name: input.name,
        cron: input.cron,
        kind: input.kind,
        payload: JSON.stringify(payload.data),
        enabled: input.enabled ?? true,
      },
      next?.toISOString() ?? null,
      now.toISOString(),
    );
  }

  remove(name: string, tx: Pick<Repos, 'schedules'> = this.o.store): Promise<boolean> {
    return tx.schedules.deleteByName(name);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      this.timer = setTimeout(() => void this.tick().finally(loop), this.o.tickMs ?? 1000);
    };
    loop();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** Fires what is due now; returns the ids of the jobs it enqueued. Exposed for tests. */
  async tick(): Promise<number[]> {
    const now = this.o.clock.now();
    const iso = now.toISOString();
    try {
      return await this.o.store.transaction(async (tx) => {
        if (!(await tx.schedules.tryLockScheduler())) return [];
        // Paused from the dashboard: due fires wait, and fire once, late, on resume.
        if (await tx.jobMonitor.isPaused(schedulerQueue)) return [];
        const fired: number[] = [];
        for (const s of await tx.schedules.due(iso)) {
          const fireTime = s.next_fire_time!;
          let next: string | null = null;
          try {
            next = nextFire(s.cron, now)?.toISOString() ?? null;
          } catch (err) {
            this.o.log.error({ err, schedule: s.name }, 'schedule has an invalid cron; disabling its fires');
          }
          if (await tx.schedules.claimFire(s.id, fireTime)) {
            const payload: unknown = JSON.parse(s.payload);
            const jobId = await this.o.queue.enqueue(tx, s.kind, payload);
            await tx.schedules.recordFire(s.id, fireTime, jobId);
            fired.push(jobId);
          }
          await tx.schedules.advance(s.id, fireTime, next, iso);
        }
        // Claims are only needed while a fire time can still be seen as due.
        await tx.schedules.pruneFires(new Date(now.getTime() - 86_400_000).toISOString());
        return fired;
      });
    } catch (err) {
      this.o.log.warn({ err }, 'cron scheduler tick failed; retrying at the next tick');
      return [];
    }
  }
}
