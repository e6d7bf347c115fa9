import type { MetaStore } from '../../../db/store.js';
import { retentionPlanJob } from '../../../jobs/kinds/retention.plan.js';
import { retentionProcessJob } from '../../../jobs/kinds/retention.process.js';
import { retentionStartJob } from '../../../jobs/kinds/retention.start.js';
import type { JobRuntime } from '../../../jobs/runtime.js';
import type { Clock } from '../../../lib/clock.js';
import type { Logger } from '../../../lib/logger.js';
import type { ArtifactService } from '../../artifacts/artifact-service.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { EventBus } from '../../events.js';
import type { ImmutabilityService } from '../immutability/immutability-service.js';
import { Retention } from './retention.js';

/**
 * Tag retention, wired: a run deletes through ArtifactService, writes Harbor's audit rows itself (user
 * agent "tag retention"), publishes RetentionTaskFinished, and its three job kinds are registered.
 */
export function wireRetention(d: {
  store: MetaStore;
  clock: Clock;
  log: Logger;
  jobs: JobRuntime;
  events: EventBus;
  immutability: ImmutabilityService;
  artifacts: ArtifactService;
  audit: AuditLog;
}): Retention {
  const { events, audit } = d;
  const retention = new Retention({
    store: d.store,
    clock: d.clock,
    queue: d.jobs.queue,
    scheduler: d.jobs.scheduler,
    task: {
      immutable: d.immutability,
      deleteArtifact: (repository, digest) => d.artifacts.deleteByName({ log: d.log }, repository, digest),
      audited: (e) =>
        audit.record({
          project: { id: e.projectId },
          operation: 'delete',
          resourceType: 'artifact',
          resource: e.resource,
          username: e.operator,
          clientIp: '',
          userAgent: 'tag retention',
          success: e.success,
        }),
      finished: (tx, e) => events.publish(tx, 'RetentionTaskFinished', e),
      afterFinished: (e) => events.emit('RetentionTaskFinished', e),
    },
  });
  d.jobs.queue.register(retentionStartJob(retention.executions));
  d.jobs.queue.register(retentionPlanJob(retention.executions));
  d.jobs.queue.register(retentionProcessJob(retention.executions));
  return retention;
}
