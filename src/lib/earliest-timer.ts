/**
 * A timer that keeps the earliest deadline asked of it: `in(ms)` moves it sooner, never later, so a
 * burst of wake-ups costs one timer, and a wake-up asked while one is due sooner changes nothing.
 */
export class EarliestTimer {
  private timer: NodeJS.Timeout | undefined;
  private due = Infinity;

  constructor(private readonly fire: () => void) {}

  /** Fires in `delayMs`, unless it fires sooner already. */
  in(delayMs: number): void {
    const at = performance.now() + delayMs;
    if (this.timer && this.due <= at) return;
    clearTimeout(this.timer);
    this.due = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = Infinity;
      this.fire();
    }, delayMs);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = Infinity;
  }
}
