import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc` extension: a full collection, or with `{ type: 'minor' }` a young-generation one. */
type GcFunction = (options?: { type: 'minor' | 'major' }) => void;
let gc: GcFunction | undefined;

function gcFunction(): GcFunction {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as GcFunction;
  }
  return gc;
}

/**
 * One full garbage collection, now. For the end of a busy spell only (e.g. when blob pulls have gone idle):
 * an idle process allocates nothing, so V8 would otherwise never collect the big buffers the spell left
 * behind, and their memory stays resident (issue 13: ~130 MiB after a 200-client load). `gc` is exposed
 * the way Node's v8.setFlagsFromString documentation shows, on first use.
 */
export function collectGarbage(): void {
  gcFunction()();
}

/**
 * One young-generation collection (a scavenge), now: it frees the memory of short-lived buffers that died
 * young, in about a millisecond when few objects survive (see `YoungGarbagePacer`).
 */
export function collectYoungGarbage(): void {
  gcFunction()({ type: 'minor' });
}
