import type { Log } from '../lib/logger.js';

/** Per-request context every service method takes first. */
export interface RequestContext {
  log: Log;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
}
