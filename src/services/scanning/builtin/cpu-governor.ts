import { readFileSync } from 'node:fs';

/** Linux's clock ticks per second (USER_HZ) in /proc/stat and /proc/<pid>/stat. */
const ticksPerSecond = 100;

/** What the governor reads: the machine's busy CPU time and the scanning process's own, in clock ticks. */
export interface CpuReadings {
  machineBusyTicks(): number | undefined;
  processTicks(pid: number): number | undefined;
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
  /** The share of each period the process may run while the rest of the machine is busy (0-1]. */
  share: number;
  /** The rest of the machine counts as busy from this many cores of CPU (its own excluded). */
  busyCores: number;
  periodMs: number;
  /** Told when the rest of the machine becomes busy or stops being busy. */
  onBusy?: (busy: boolean) => void;
}

/**
 * Holds a scanning process to `share` of the time while the rest of the machine is busy (serving pulls,
 * mostly), by stopping and continuing it (SIGSTOP, SIGCONT) within each period; while the machine has
 * CPU to spare it runs freely. Nice 19 alone does not keep a scan from slowing the pulls: on this VM the
 * niced process still took ~half a core beside 8 clients pulling (each time a pull waited for I/O) and
 * the pulls ran 16-21 % slower, as the two vCPUs share more than the scheduler sees. The process is never
 * held while it says it is writing (it holds SQLite's write lock then: the server's writes would wait);
 * `onBusy` tells it when the machine is busy, so that it paces its writes itself between statements. It
 * is continued when the governor stops. Linux only: elsewhere (no /proc) it does nothing.
 */
export class CpuGovernor {
  private timer: NodeJS.Timeout | undefined;
  private hold: NodeJS.Timeout | undefined;
  private last: { at: number; machine: number; own: number } | undefined;
  private writes = 0;
  private held = false;
  private busy = false;
  /** Periods the process was held for part of (for the bench and the tests). */
  throttledPeriods = 0;

  constructor(
    private readonly pid: number,
    private readonly o: CpuGovernorOptions,
    private readonly read: CpuReadings = procReadings,
  ) {}

  start(): void {
    if (this.timer || this.o.share >= 1) return;
    this.last = this.sample();
    if (!this.last) return;
    this.timer = setInterval(() => this.tick(), this.o.periodMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.resume();
    if (this.busy) {
      this.busy = false;
      this.o.onBusy?.(false);
    }
  }

  /** The process begins (true) or ends (false) a write: it is not held meanwhile. */
  writing(on: boolean): void {
    this.writes = Math.max(0, this.writes + (on ? 1 : -1));
    if (on) this.resume();
  }

  private sample(): { at: number; machine: number; own: number } | undefined {
    const machine = this.read.machineBusyTicks();
    const own = this.read.processTicks(this.pid);
    if (machine === undefined || own === undefined) return undefined;
    return { at: performance.now(), machine, own };
  }

  private tick(): void {
    const now = this.sample();
    const last = this.last;
    if (!now || !last) return this.stop();
    this.last = now;
    const seconds = (now.at - last.at) / 1000;
    const others = (now.machine - last.machine - (now.own - last.own)) / ticksPerSecond / seconds;
    this.resume();
    const busy = others >= this.o.busyCores;
    if (busy !== this.busy) {
      this.busy = busy;
      this.o.onBusy?.(busy);
    }
    if (!busy || this.writes > 0) return;
    this.throttledPeriods++;
    this.hold = setTimeout(() => {
      this.hold = undefined;
      if (this.writes > 0 || !this.timer) return;
      if (this.signal('SIGSTOP')) this.held = true;
    }, this.o.share * this.o.periodMs);
    this.hold.unref();
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
