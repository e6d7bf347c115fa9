import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { collectGarbage } from './collect-garbage.js';

/** V8's default (src/flags/flag-definitions.h): the young generation doubles when it fills up. */
const defaultGrowthFactor = 2;

/** Sets the growth factor the hold or the cap wants now (`reassertYoungGenerationCap`). */
let reassert: (() => void) | undefined;

/**
 * The most the young generation may hold once serving: two semi-spaces of 4 MiB, where V8's default
 * lets them grow to 16 MiB each (32 MiB resident under load). Under the bench's load run the young
 * generation sat at its 32 MiB maximum at every process's peak (issue 15). 2 × 8 MiB until session 23:
 * 2 × 4 cut the whole-life peak of the bench's rows process from 206.5 to 197.1 MiB with no loss of
 * throughput (load row 1,264 against 1,223 req/s; manifest PUT 2.99x / 2.09x distribution at concurrency
 * 1 / 16 against 2.91x / 1.93x; one A/B pair, docs/scale-out.md). Node's `--max-semi-space-size=4` would do
 * the same but only on the command line, which `node dist/server/main.js` does not carry.
 */
export const youngGenerationCapBytes = 8 * 2 ** 20;

/**
 * Keeps V8's young generation at its starting size until `release()`. Loading Berth's modules and
 * building the app allocate tens of MiB that all survive (code, module records, schemas); V8 reads that
 * as a reason to grow the young generation to its 2 × 16 MiB maximum, which then stays resident while
 * the node sits idle. Call it before the heavy modules load (the entry point imports them afterwards).
 * Once serving, `release()` lets the young generation grow again, up to `youngGenerationCapBytes`
 * (`capYoungGeneration`): V8 reads the growth factor each time it considers growing, so it may change at
 * run time. Start-up's short-lived objects were promoted to the old generation meanwhile, so `release()`
 * also collects them once (a few tens of ms, before the first request); an idle node would not collect
 * them for a long time.
 */
export function holdYoungGeneration(): { release(): void } {
  reassert = () => setFlagsFromString('--semi-space-growth-factor=1');
  reassert();
  return {
    release: () => {
      collectGarbage();
      capYoungGeneration();
    },
  };
}

function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Lets the young generation double as V8 decides, until it reaches `capBytes`; from then on it does not
 * grow (growth factor 1) unless V8 shrank it meanwhile (it does when allocation slows down). V8 only
 * grows the young generation in a scavenge, so the factor is set again after each garbage collection
 * (a `gc` performance entry: one small callback per collection, next to a collection's own cost).
 * Those entries arrive between turns of the event loop, so one turn that allocates more than the young
 * generation holds, several times over, can grow it twice and pass the cap once.
 */
export function capYoungGeneration(capBytes = youngGenerationCapBytes): { stop(): void } {
  // Set after every collection, not only when it changes (4-5 µs): V8 may put it back behind our back
  // (`reassertYoungGenerationCap`).
  const apply = () => {
    const factor = youngGenerationBytes() >= capBytes ? 1 : defaultGrowthFactor;
    setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  };
  apply();
  const observer = new PerformanceObserver(apply);
  observer.observe({ entryTypes: ['gc'] });
  reassert = apply;
  return {
    stop: () => {
      observer.disconnect();
      reassert = undefined;
    },
  };
}

/**
 * Sets the growth factor again. Starting a worker thread puts V8's flags for the young generation back to
 * their defaults, process-wide: the growth factor was 2 again while `capYoungGeneration` believed it 1, and
 * the server's young generation grew to 2 × 16 MiB under the bench's load (issue 15). `startThread` calls
 * this every millisecond from a thread's start until it is online, and once more then.
 */
export function reassertYoungGenerationCap(): void {
  reassert?.();
}
