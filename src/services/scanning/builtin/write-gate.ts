/**
 * The scanning process's side of the CPU governor's writes (cpu-governor.ts): the governor may stop the
 * process at any time except inside a database statement (on SQLite each holds the file's write lock,
 * which the server's writes would wait for). So each statement runs inside a grant: the gate asks the
 * governor (`ask`), which answers once the process's CPU account is in credit (`grant`, with a CPU
 * budget); statements then run, one at a time, until the process's own CPU since the grant reaches the
 * budget, when the gate gives the grant back (`done`) and asks again, or until no statement has come for
 * `idleMs`. The governor counts the CPU used under a grant like any other and holds the process
 * afterwards until its average is back at its share. Ungoverned (no governor: a thread, a share of 1),
 * statements run at once.
 */
export class WriteGate {
  /** Set per scan by the pool (`run`'s `governed`): a governor answers the asks. */
  governed = false;
  private grant: { untilCpuMs: number } | undefined;
  private waiting: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: {
      ask(): void;
      done(): void;
      /** This process's CPU time so far (ms). */
      cpuMs(): number;
      idleMs?: number;
    },
  ) {}

  /** Runs one statement inside a grant; statements run one at a time, in the order given. */
  run<T>(statement: () => Promise<T>): Promise<T> {
    if (!this.governed && !this.grant && !this.waiting) return statement();
    const next = this.queue.then(async () => {
      await this.lease();
      try {
        return await statement();
      } finally {
        this.idle = setTimeout(() => this.giveBack(), this.o.idleMs ?? 20);
        this.idle.unref();
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The governor's answer: `budgetMs` of this process's CPU from now. */
  granted(budgetMs: number): void {
    const wake = this.waiting;
    if (!wake) return;
    this.waiting = undefined;
    this.grant = { untilCpuMs: this.o.cpuMs() + budgetMs };
    wake();
  }

  private async lease(): Promise<void> {
    clearTimeout(this.idle);
    if (this.grant && this.o.cpuMs() < this.grant.untilCpuMs) return;
    this.giveBack();
    if (!this.governed) return;
    await new Promise<void>((resolve) => {
      this.waiting = resolve;
      this.o.ask();
    });
  }

  private giveBack(): void {
    clearTimeout(this.idle);
    if (!this.grant) return;
    this.grant = undefined;
    this.o.done();
  }
}
