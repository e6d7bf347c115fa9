import { setFlagsFromString } from 'node:v8';

/**
 * How much V8's old generation may grow after a full collection before the next one, in per cent of what
 * survived it. V8 picks a factor between 1.1 and 4 by itself (4 on a machine with a large heap limit), so
 * a process whose live heap is ~40 MiB let it reach 110-126 MiB between collections in the bench's load row.
 */
export const oldGenerationGrowthPercent = 30;

/**
 * Caps V8's old-generation growth factor at 1 + `percent` / 100 (V8's `--heap-growing-percent`, which V8
 * reads at every full collection, so it can be set at run time). Measured in the bench's many rows in one
 * process, alternating pairs: whole-life peak 244.8 / 242.8 MiB against 251.6 / 253.5 without, at the
 * same throughput (issue 15, docs/scale-out.md "Memory"). Node's command-line flag would do the same, but
 * `node dist/server/main.js`, `npm start` and the bench carry none.
 */
export function holdOldGenerationGrowth(percent = oldGenerationGrowthPercent): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
