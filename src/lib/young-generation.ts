import { setFlagsFromString } from 'node:v8';
import { collectGarbage } from './collect-garbage.js';

/** V8's default (src/flags/flag-definitions.h): the young generation doubles when it fills up. */
const defaultGrowthFactor = 2;

/**
 * Keeps V8's young generation at its starting size until `release()`. Loading Berth's modules and
 * building the app allocate tens of MiB that all survive (code, module records, schemas); V8 reads that
 * as a reason to grow the young generation to its 2 × 16 MiB maximum, which then stays resident while
 * the node sits idle. Call it before the heavy modules load (the entry point imports them afterwards).
 * Once serving, `release()` puts V8's default back, and under load the young generation grows exactly as
 * it otherwise would: V8 reads the flag each time it considers growing, so it may change at run time.
 * Start-up's short-lived objects were promoted to the old generation meanwhile, so `release()` also
 * collects them once (a few tens of ms, before the first request); an idle node would not collect them
 * for a long time.
 */
export function holdYoungGeneration(): { release(): void } {
  setFlagsFromString('--semi-space-growth-factor=1');
  return {
    release: () => {
      collectGarbage();
      setFlagsFromString(`--semi-space-growth-factor=${defaultGrowthFactor}`);
    },
  };
}
