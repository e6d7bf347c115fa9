import os from 'node:os';

/** What `auto` allows for each worker: a worker's peak RSS under load in the bench, with headroom. */
export const memoryPerWorker = 256 * 2 ** 20;

/**
 * `server.workers` as a number of processes. `auto` is one per core (os.availableParallelism, which
 * honours a container's CPU limit), but no more than half the machine's memory allows at
 * `memoryPerWorker` each: a small VM with many cores gets fewer workers rather than swapping.
 */
export function workerCount(
  setting: number | 'auto',
  machine: { cores: number; memoryBytes: number } = {
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
  },
): number {
  if (setting !== 'auto') return setting;
  const byMemory = Math.floor(machine.memoryBytes / 2 / memoryPerWorker);
  return Math.max(1, Math.min(machine.cores, byMemory));
}
