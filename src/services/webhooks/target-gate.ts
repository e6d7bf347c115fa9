/**
 * At most `cap` requests in flight to one target address, over everything the delivery thread sends:
 * the first tries of a batch of events (event-batches.ts) and the retries the job worker runs. Waiters
 * are served in order. One slow or dead receiver therefore holds at most `cap` requests, and the other
 * targets' deliveries go on.
 */
/** How long a target's slot stays taken after a request to it failed. */
export const failurePauseMs = 50;

interface Waiter {
  resolve(took: boolean): void;
  signal: AbortSignal | undefined;
}

export class TargetGate {
  private readonly targets = new Map<string, { inFlight: number; waiting: Waiter[] }>();
  /** Signals listened to: one listener per signal, however many of its requests wait. */
  private readonly listened = new WeakSet<AbortSignal>();

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
    // A batch's requests beyond the cap all wait on its one signal: a listener each would cost an
    // EventTarget scan per request (quadratic in the batch) and Node's MaxListenersExceededWarning.
    if (signal && !this.listened.has(signal)) {
      this.listened.add(signal);
      signal.addEventListener('abort', () => this.drop(signal), { once: true });
    }
    const waiting = t.waiting;
    return new Promise<boolean>((resolve) => waiting.push({ resolve, signal }));
  }

  /** The waiters of an aborted signal leave every queue, answered false. */
  private drop(signal: AbortSignal): void {
    for (const t of this.targets.values()) {
      if (!t.waiting.some((w) => w.signal === signal)) continue;
      const stay: Waiter[] = [];
      for (const w of t.waiting)
        if (w.signal === signal) w.resolve(false);
        else stay.push(w);
      t.waiting.splice(0, t.waiting.length, ...stay);
    }
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
    if (next) return next.resolve(true);
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
