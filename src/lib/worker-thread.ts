import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

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

/** Starts a worker thread on `entry`; under tsx (tests, development) the TypeScript entry loads through tsx. */
export function startThread(entry: URL, name: string, workerData?: unknown): Worker {
  return entry.pathname.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
          `.then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`,
        { eval: true, name, workerData },
      )
    : new Worker(entry, { name, workerData });
}
