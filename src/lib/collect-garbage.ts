import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * One full garbage collection, now. For the end of a busy spell only (e.g. when blob pulls have gone idle):
 * an idle process allocates nothing, so V8 would otherwise never collect the big buffers the spell left
 * behind, and their memory stays resident (issue 13: ~130 MiB after a 200-client load). `gc` is exposed
 * the way Node's v8.setFlagsFromString documentation shows, on first use.
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
