import { setFlagsFromString } from 'node:v8';

/**
 * Keeps WebAssembly on V8's baseline compiler (Liftoff) for the process's life, worker threads included.
 * The only WebAssembly Berth runs is undici's HTTP parser (llhttp, in undici and in Node's own fetch). On
 * its first request V8 also compiled it with its optimizing tier, and RSS went from 60 to 103-108 MiB for a
 * moment and stayed at 68-83 (a Node 20 script sending 200 requests to a local server); on Liftoff alone,
 * 67-72 and 67-71. Steady requests cost the same: 3,000 of them took 509-523 ms against 472-572. In Berth
 * that first request is a replication's or a proxy's, on top of all the process holds by then: the
 * replication row's first round jumped 26-41 MiB for half a second (issue 15, docs/benchmarks.md).
 * Runs before anything compiles WebAssembly (the entry point's first lines).
 */
export function keepWasmOnBaseline(): void {
  setFlagsFromString('--liftoff-only');
}
