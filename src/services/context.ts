import type { Log } from '../lib/logger.js';

/** Who made a request, as the audit log records it. */
export interface Actor {
  username: string;
  clientIp: string;
  userAgent: string;
}

/** Per-request context every service method takes first. */
export interface RequestContext {
  log: Log;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** Who is acting, as the audit log names them, for records written below the HTTP layer. */
  operator?: string;
  /** The caller, when an HTTP request caused the call (not a job); domain events carry it on. */
  actor?: Actor;
}
