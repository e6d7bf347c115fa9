/**
 * glibc's malloc gives each thread that allocates while another holds the main heap an arena of its own, up
 * to 8 per core, and an arena keeps the pages it once used. In a Berth process those threads are libuv's
 * pool (file writes, hashing, zlib) and the worker threads. Side by side in one run, the manifest-put row's
 * fixtures and phases peaked at 143.0 MiB with the default and 121.3 MiB with 2 arenas at load 12-15, but
 * 138.0 vs 142.8 and 145.9 vs 141.5 in two more runs at load 5-7: a few MiB at most except on a busy
 * machine, req/s within the runs' noise (issue 15, docs/scale-out.md "Memory"). glibc reads
 * `MALLOC_ARENA_MAX` once, at a process's first allocation, so it only takes effect through the
 * environment a process starts with: Berth sets it for the processes it forks (`--workers` children, the
 * scanning process); the process started by hand or by a service manager gets it from that environment.
 * An operator's own value wins. Other C libraries (musl) ignore the variable.
 */
export const mallocArenaMax = '2';

/** The variables to add to a forked child's environment. */
export function childMallocEnv(env: NodeJS.ProcessEnv = process.env): { MALLOC_ARENA_MAX: string } {
  return { MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? mallocArenaMax };
}
