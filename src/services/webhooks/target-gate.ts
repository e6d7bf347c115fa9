/**
 * At most `cap` requests in flight to one target address, over everything the delivery thread sends:
 * the first tries of a batch of events (event-batches.ts) and the retries the job worker runs. Waiters
 * are served in order. One slow or dead receiver therefore holds at most `cap` requests, and the other
 * targets' deliveries go on.
 */
/** How long a target's slot stays taken after a request to it failed. */
export const failurePauseMs = 50;

export class TargetGate {
  private readonly targets = new Map<string, { inFlight: number; waiting: (() => void)[] }>();

  constructor(private readonly cap: number) {}

  /**
   * Resolves true once a slot of `address` is ours; false when `signal` aborts first (the slot is then
   * not taken). `release` must follow a true.
   */
  acquire(address: string, signal?: AbortSignal): Promise<boolean> | boolean {
    let t = this.targets.get(address);
    if (!t) this.targets.set(address, (t = { inFlight: 0, waiting: [] }));
    if (t.inFlight < this.cap) {
      t.inFlight++;
      return true;
    }
    if (signal?.aborted) return false;
    const target = t;
    return new Promise<boolean>((resolve) => {
      const take = () => {
        signal?.removeEventListener('abort', give);
        resolve(true);
      };
      const give = () => {
        const at = target.waiting.indexOf(take);
        if (at >= 0) target.waiting.splice(at, 1);
        resolve(false);
      };
      target.waiting.push(take);
      signal?.addEventListener('abort', give, { once: true });
    });
  }

  /**
   * Gives the slot back; after a failed request (`failed`), only after `failurePauseMs`, so the target
   * has seen the connection of a timed-out request closed before the next request goes out.
   */
  release(address: string, failed = false): void {
    if (failed) {
      setTimeout(() => this.release(address), failurePauseMs);
      return;
    }
    const t = this.targets.get(address);
    if (!t) return;
    const next = t.waiting.shift();
    // The slot passes to the next waiter as it is: inFlight stays.
    if (next) return next();
    t.inFlight--;
    if (t.inFlight === 0) this.targets.delete(address);
  }

  /** Runs `fn` within a slot of `address`; rejects with the signal's reason if it aborts while waiting. */
  async run<T>(address: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!(await this.acquire(address, signal))) throw new Error('aborted');
    let failed = true;
    try {
      const out = await fn();
      failed = false;
      return out;
    } finally {
      this.release(address, failed);
    }
  }
}
