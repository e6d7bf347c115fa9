import type { Log } from '../lib/logger.js';

/** Per-request context every service method takes first. */
export interface RequestContext {
  log: Log;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** Who is acting, as the audit log names them, for records written below the HTTP layer. */
  operator?: string;
}
