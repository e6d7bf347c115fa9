import { performance } from 'node:perf_hooks';

/** Latencies in ms, bounded so a fast server cannot make the client run out of memory. */
export class Latencies {
  private readonly values: Float64Array;
  private n = 0;
  count = 0;

  constructor(max = 4_000_000) {
    this.values = new Float64Array(max);
  }

  add(ms: number): void {
    this.count++;
    if (this.n < this.values.length) this.values[this.n++] = ms;
  }

  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const sorted = this.values.slice(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.floor((p / 100) * this.n))]!;
  }
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const MB = 1e6;
export const MiB = 1024 * 1024;

/** Runs `fn` and returns elapsed seconds. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/**
 * `workers` loops calling `op` until `seconds` have passed (or `maxOps` ops in all), recording each
 * op's latency. Errors are counted, not thrown. Returns ops/s, p50, p99 and the error count.
 */
export async function closedLoop(
  workers: number,
  seconds: number,
  op: (worker: number, i: number) => Promise<void>,
  options: { warmupSeconds?: number; maxOps?: number; onError?: (e: unknown) => void } = {},
): Promise<{ ops: number; rps: number; p50: number; p99: number; errors: number; seconds: number }> {
  const lat = new Latencies();
  const maxOps = options.maxOps ?? 50_000_000;
  let errors = 0;
  let issued = 0;
  const warmEnd = performance.now() + (options.warmupSeconds ?? 0) * 1000;
  let start = 0;
  let end = 0;
  const worker = async (w: number) => {
    for (let i = 0; issued < maxOps; i++) {
      const t0 = performance.now();
      if (start !== 0 && t0 >= end) break;
      if (start === 0 && t0 >= warmEnd) {
        start = t0;
        end = start + seconds * 1000;
      }
      const counting = start !== 0;
      if (counting) issued++;
      try {
        await op(w, i);
        if (counting) lat.add(performance.now() - t0);
      } catch (e) {
        if (counting) {
          errors++;
          options.onError?.(e);
        }
      }
    }
  };
  if ((options.warmupSeconds ?? 0) <= 0) {
    start = performance.now();
    end = start + seconds * 1000;
  }
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  const elapsed = (performance.now() - start) / 1000;
  return {
    ops: lat.count,
    rps: lat.count / elapsed,
    p50: lat.percentile(50),
    p99: lat.percentile(99),
    errors,
    seconds: elapsed,
  };
}
