/**
 * What one HTTP process of `berth serve --workers N` is told by the primary that forked it. Passed to
 * buildApp; a plain `berth serve` (one process) has none.
 */
export interface WorkerRole {
  /** Answered as `X-Berth-Worker` on every response, so a client (and the tests) can tell workers apart. */
  pid: number;
  /** The one worker that fires cron schedules and runs jobs; the others only serve HTTP. */
  runsJobs: boolean;
  /** GET /metrics: every worker's figures merged, asked of the primary. */
  gatherMetrics(): Promise<string>;
}

/** Messages between the primary and its workers over the cluster's IPC channel. */
export type WorkerMessage =
  /** worker → primary: listening; the primary logs "Berth is serving" once all are. */
  | { berth: 'ready'; url: string }
  /** worker → primary: a scrape arrived; merge every worker's metrics. */
  | { berth: 'gather'; id: number }
  /** primary → every worker: send your metrics for request `id`. */
  | { berth: 'collect'; id: number }
  /** worker → primary: this worker's metrics (prom-client's JSON form). */
  | { berth: 'collected'; id: number; metrics: unknown }
  /** primary → the asking worker: the merged text. */
  | { berth: 'gathered'; id: number; text: string };

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { berth?: unknown }).berth === 'string';
}

/** The environment variable the primary sets on each worker: its slot, 0 being the one that runs jobs. */
export const slotVariable = 'BERTH_WORKER_SLOT';
