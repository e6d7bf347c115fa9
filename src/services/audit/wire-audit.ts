import type { MetaStore } from '../../db/store.js';
import { auditPurgeJob } from '../../jobs/kinds/audit-purge.js';
import type { JobRuntime } from '../../jobs/runtime.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { AccessControl } from '../access/access-control.js';
import type { EventBus } from '../events.js';
import { auditDomainEvents } from './audit-domain-events.js';
import { AuditLog } from './audit-log.js';
import { AuditPurge } from './audit-purge.js';

/** The audit log, wired: buffered writes, its domain-event subscriptions, and its purge job. */
export function wireAudit(d: {
  store: MetaStore;
  clock: Clock;
  log: Logger;
  events: EventBus;
  jobs: JobRuntime;
  access: AccessControl;
}): { audit: AuditLog; auditPurge: AuditPurge } {
  const { store, clock } = d;
  const audit = new AuditLog({ store, access: d.access, clock, log: d.log, intervalMs: 1000 });
  audit.start();
  auditDomainEvents(d.events, audit);
  const auditPurge = new AuditPurge({ store, queue: d.jobs.queue, scheduler: d.jobs.scheduler, clock });
  d.jobs.queue.register(auditPurgeJob(auditPurge));
  return { audit, auditPurge };
}
