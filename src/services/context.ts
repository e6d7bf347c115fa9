import type { Log } from '../lib/logger.js';

/** Who made a request, as the audit log records it. */
export interface Actor {
  username: string;
  clientIp: string;
  userAgent: string;
  /**
   * False when the change is one step of an API call the HTTP layer audits as a whole (an artifact copy's
   * pushes): subscribers still name the actor, the audit log writes no row of its own for it.
   */
  audited?: false;
}

/** The name events and records give whoever acted: the actor's username; none for a job's change. */
export function operatorName(actor: Actor | undefined): string | undefined {
  return actor?.username;
}

/** Per-request context every service method takes first. */
export interface RequestContext {
  log: Log;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** The caller, when an HTTP request caused the call (not a job); domain events carry it on. */
  actor?: Actor;
}
