import { existsSync } from 'node:fs';
import { Worker, type ResourceLimits, type Transferable } from 'node:worker_threads';
import { reassertYoungGenerationCap } from './young-generation.js';

/**
 * Where a worker thread's entry module (`src/<name>.ts`) is: beside the root module as built by tsc
 * (dist/src/<name>.js), in the bundle (dist/server/<name>.js, this code being in main.js or one of the
 * chunks beside it), or the TypeScript source.
 */
export function threadEntry(name: string): URL {
  const candidates = [`../${name}.js`, `./${name}.js`, `../${name}.ts`];
  for (const c of candidates) {
    const url = new URL(c, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error(`the thread module ${name} is missing (looked for ${candidates.join(', ')})`);
}

/**
 * Starts a worker thread on `entry`; under tsx (tests, development) the TypeScript entry loads through tsx.
 * `resourceLimits` sizes the thread's own V8 heap: the young-generation cap of src/lib/young-generation.ts
 * holds for the main thread's heap only, and an uncapped thread's young generation grew to 32 MiB.
 */
export function startThread(
  entry: URL,
  name: string,
  workerData?: unknown,
  resourceLimits?: ResourceLimits,
  transferList?: Transferable[],
): Worker {
  const options = {
    ...{ name, workerData, ...(resourceLimits ? { resourceLimits } : {}) },
    ...(transferList ? { transferList } : {}),
  };
  const worker = entry.pathname.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
          `.then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`,
        { ...options, eval: true },
      )
    : new Worker(entry, options);
  // A new thread's isolate puts V8's young-generation growth factor back to its default for the whole
  // process, at a moment of its own before the thread is online: set again every millisecond until then
  // (a scavenge in between may still grow the young generation once).
  const starting = setInterval(reassertYoungGenerationCap, 1).unref();
  const started = () => {
    clearInterval(starting);
    reassertYoungGenerationCap();
  };
  worker.once('online', started);
  worker.once('exit', started);
  return worker;
}
