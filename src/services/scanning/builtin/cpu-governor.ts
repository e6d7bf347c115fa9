import { readFileSync } from 'node:fs';

/** Linux's clock ticks per second (USER_HZ) in /proc/stat and /proc/<pid>/stat. */
const ticksPerSecond = 100;
const msPerTick = 1000 / ticksPerSecond;

/** What the governor reads: the machine's busy CPU time and the scanning process's own, in clock ticks. */
export interface CpuReadings {
  machineBusyTicks(): number | undefined;
  processTicks(pid: number): number | undefined;
  /** Wall time, ms (default `performance.now()`). */
  now?(): number;
}

/** /proc/stat's first line (user nice system idle iowait irq softirq steal …): the busy columns. */
export function busyTicksOf(procStat: string): number | undefined {
  const line = procStat.slice(0, procStat.indexOf('\n'));
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.some((n) => !Number.isFinite(n))) return undefined;
  return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
}

/** utime + stime of /proc/<pid>/stat (fields 14 and 15; the command name may hold spaces). */
export function processTicksOf(pidStat: string): number | undefined {
  const f = pidStat.slice(pidStat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

export const procReadings: CpuReadings = {
  machineBusyTicks: () => {
    try {
      return busyTicksOf(readFileSync('/proc/stat', 'utf8'));
    } catch {
      return undefined;
    }
  },
  processTicks: (pid) => {
    try {
      return processTicksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return undefined;
    }
  },
};

export interface CpuGovernorOptions {
  /**
   * The CPU the process may use on average while the rest of the machine is busy, in cores (0.1: 100 ms
   * of CPU per second), every thread of it and its writes included.
   */
  share: number;
  /** The rest of the machine counts as busy from this many cores of CPU (its own excluded). */
  busyCores: number;
  /** The period: the credit the process may bank and a write's grant are its share of one. */
  periodMs: number;
  /** How often the timer ends a period (default `periodMs`; the tests end them themselves). */
  timerMs?: number;
  /** A write may begin: the process may run this much CPU (ms) before it asks again (`askWrite`). */
  onGrant?: (budgetMs: number) => void;
}

interface Reading {
  at: number;
  machine: number;
  own: number;
}

/** What the governor has counted (for the bench and the tests). */
export interface GovernorFigures {
  /** Periods the process was held for part or all of. */
  throttledPeriods: number;
  /** The process's CPU (ms) while the rest of the machine was busy, and the wall time (ms) that lasted. */
  busyCpuMs: number;
  busyWallMs: number;
  /** Writes granted, and of those, granted only after the process had been held to pay a debt. */
  grants: number;
  deferredGrants: number;
}

/**
 * Holds a scanning process to `share` of a core on average while the rest of the machine is busy
 * (serving pulls, mostly), by stopping and continuing it (SIGSTOP, SIGCONT); while the machine has CPU to
 * spare it runs freely. Nice 19 alone does not keep a scan from slowing the pulls: on this VM the niced
 * process still took ~half a core beside 8 clients pulling and the pulls ran 16-21 % slower.
 *
 * The governor keeps an account of the process's CPU (its own /proc figure, all its threads): each
 * period it is credited `share` of the period's wall time and debited what it used; it runs while the
 * account is in credit and is held stopped while it is in debt, until its average is back at the share.
 * The credit it can bank is one period's (no bursts after a pause). It is never stopped inside a
 * database statement (on SQLite a statement holds the file's write lock, which the server's writes would
 * wait for): the process asks before its writes (`askWrite`), is granted `share` of a period of CPU
 * (`onGrant`) once its account is in credit, and says when it is done (`wrote`); what it used meanwhile
 * is a debt like any other, paid by holding it afterwards. Continued when `end` finds no scan and no
 * write left, on `stop` and when this process exits. Linux only: elsewhere (no /proc) it does nothing.
 */
export class CpuGovernor {
  private timer: NodeJS.Timeout | undefined;
  private hold: NodeJS.Timeout | undefined;
  /** The last period's end: the rest of the machine's CPU is judged busy or not over a period. */
  private period: Reading | undefined;
  /** The account's last update (a period's end, an ask, a write's end). */
  private accounted: Reading | undefined;
  /** CPU ms the process may still use before it is held; negative, its debt. */
  private credit = 0;
  private busy = false;
  private held = false;
  private scanning = false;
  private write: 'none' | 'asked' | 'granted' = 'none';
  private heldForDebt = false;
  private readonly continueOnExit = () => this.signal('SIGCONT');
  readonly figures: GovernorFigures = {
    throttledPeriods: 0,
    busyCpuMs: 0,
    busyWallMs: 0,
    grants: 0,
    deferredGrants: 0,
  };

  constructor(
    private readonly pid: number,
    private readonly o: CpuGovernorOptions,
    private readonly read: CpuReadings = procReadings,
  ) {}

  /** For the tests: the periods it held the process in. */
  get throttledPeriods(): number {
    return this.figures.throttledPeriods;
  }

  /** A scan begins: the process is governed until `end`, and while it writes after that. */
  start(): void {
    this.scanning = true;
    // A debt left by the scan before (its write, its purge) is paid before this one runs.
    if (this.watch() && this.busy && this.credit <= 0) this.holdNow();
  }

  /** The scan ended; the process goes on being governed while it writes (its purge). */
  end(): void {
    this.scanning = false;
    this.idleIfDone();
  }

  /** The process asks to write: granted now if its account is in credit, else once it is. */
  askWrite(): void {
    if (this.write === 'granted') return;
    this.write = 'asked';
    if (!this.watch()) return this.grant();
    this.account();
    if (!this.busy || this.credit > 0) this.grant();
    else {
      this.heldForDebt = true;
      this.holdNow();
    }
  }

  /** The process's write ended (no statement runs now): it may be held again. */
  wrote(): void {
    if (this.write === 'none') return;
    this.write = 'none';
    this.account();
    if (this.busy && this.credit <= 0 && this.timer) this.holdNow();
    this.idleIfDone();
  }

  /** Continues the process and forgets it (it ended, or the pool closes). */
  stop(): void {
    this.scanning = false;
    this.write = 'none';
    this.unwatch();
  }

  /** Starts the periods if the share applies here; false when the process is not governed (share 1, no /proc). */
  private watch(): boolean {
    if (this.timer) return true;
    if (this.o.share >= 1) return false;
    const now = this.sample();
    if (!now) return false;
    // After a pause (between scans) the account goes on: a debt is still owed (the share of the pause is
    // credited), a credit stays capped.
    if (this.accounted) this.settle(now, { judge: false, count: false });
    this.period = this.accounted = now;
    this.timer = setInterval(() => this.tick(), this.o.timerMs ?? this.o.periodMs);
    this.timer.unref();
    process.on('exit', this.continueOnExit);
    return true;
  }

  private unwatch(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.resume();
    process.off('exit', this.continueOnExit);
  }

  private idleIfDone(): void {
    if (!this.scanning && this.write === 'none') this.unwatch();
  }

  private sample(): Reading | undefined {
    const machine = this.read.machineBusyTicks();
    const own = this.read.processTicks(this.pid);
    if (machine === undefined || own === undefined) return undefined;
    return { at: this.read.now?.() ?? performance.now(), machine, own };
  }

  /** Brings the account up to now between two periods' ends (an ask, the end of a write). */
  private account(): void {
    const now = this.sample();
    if (now && this.accounted) this.settle(now, { judge: false, count: true });
  }

  /**
   * Credits the share of the wall time since the account's last update and debits the CPU the process
   * used meanwhile; at a period's end (`judge`) first decides whether the rest of the machine was busy.
   */
  private settle(now: Reading, o: { judge: boolean; count: boolean }): void {
    if (o.judge && this.period) {
      const wallMs = now.at - this.period.at;
      const othersMs = (now.machine - this.period.machine - (now.own - this.period.own)) * msPerTick;
      this.busy = wallMs > 0 && othersMs / wallMs >= this.o.busyCores;
      this.period = now;
    }
    const last = this.accounted!;
    this.accounted = now;
    if (!this.busy) {
      // CPU nobody else wanted is not owed.
      this.credit = this.burstMs();
      return;
    }
    const wallMs = now.at - last.at;
    const usedMs = (now.own - last.own) * msPerTick;
    if (o.count) {
      this.figures.busyCpuMs += usedMs;
      this.figures.busyWallMs += wallMs;
    }
    this.credit = Math.min(this.burstMs(), this.credit + this.o.share * wallMs - usedMs);
  }

  /** The credit the process may bank: one period's share, so a pause does not buy a burst. */
  private burstMs(): number {
    return this.o.share * this.o.periodMs;
  }

  /** A period's end (the timer's; the tests call it with readings of their own). */
  tick(): void {
    const now = this.sample();
    if (!now || !this.accounted) return this.stop();
    this.settle(now, { judge: true, count: true });
    if (this.write === 'granted') return;
    if (!this.busy) {
      this.resume();
      if (this.write === 'asked') this.grant();
      return;
    }
    this.figures.throttledPeriods++;
    if (this.credit <= 0) {
      if (this.write === 'asked') this.heldForDebt = true;
      return this.holdNow();
    }
    this.resume();
    if (this.write === 'asked') return this.grant();
    // Runs what the account allows of this period (at one core: more shows as a debt at the next).
    this.hold = setTimeout(() => {
      this.hold = undefined;
      if (this.write !== 'granted' && this.timer) this.holdNow();
    }, this.credit);
    this.hold.unref();
  }

  private grant(): void {
    this.write = 'granted';
    this.resume();
    this.figures.grants++;
    if (this.heldForDebt) this.figures.deferredGrants++;
    this.heldForDebt = false;
    this.o.onGrant?.(this.busy ? this.burstMs() : this.o.periodMs);
  }

  private holdNow(): void {
    clearTimeout(this.hold);
    this.hold = undefined;
    if (this.held || this.write === 'granted') return;
    if (this.signal('SIGSTOP')) this.held = true;
  }

  private resume(): void {
    clearTimeout(this.hold);
    this.hold = undefined;
    if (this.held) {
      this.held = false;
      this.signal('SIGCONT');
    }
  }

  private signal(s: NodeJS.Signals): boolean {
    try {
      process.kill(this.pid, s);
      return true;
    } catch {
      return false;
    }
  }
}
