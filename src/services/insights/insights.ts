import { insightsSnapshotJob } from '../../jobs/kinds/insights-snapshot.js';
import type { JobRuntime } from '../../jobs/runtime.js';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { EventBus } from '../events.js';
import type { AccessControl } from '../access/access-control.js';
import { InsightRecorder } from './insight-recorder.js';
import { InsightService } from './insight-service.js';
import { operatorName, type Actor } from '../context.js';

/** Who did it, for active users: a named user or robot; anonymous pulls and jobs are no one. */
function who(actor: Actor | undefined): string | undefined {
  const name = operatorName(actor);
  return name && name !== 'anonymous' ? name : undefined;
}

/**
 * Activity insights, wired: the recorder subscribes to the domain events after commit (counts are
 * statistics; a crash loses at most one flush interval), the daily `insights.snapshot` job records every
 * project's storage, and the service answers the API.
 */
export async function startInsights(deps: {
  store: Pick<MetaStore, 'insights' | 'transaction'>;
  clock: Clock;
  log: Logger;
  events: EventBus;
  jobs: JobRuntime;
  intervalMs: number;
  access: Pick<AccessControl, 'visibleProjects'>;
}): Promise<{ service: InsightService; recorder: InsightRecorder }> {
  const recorder = new InsightRecorder(deps);
  const { events } = deps;
  events.on('ArtifactPushed', (e) =>
    recorder.recordPush({ repository: e.repository, size: e.size ?? 0, username: who(e.actor) }),
  );
  events.on('ArtifactPulled', (e) =>
    recorder.recordPull({ repository: e.repository, size: e.size ?? 0, username: who(e.actor) }),
  );
  events.on('ArtifactDeleted', (e) => recorder.recordDelete({ repository: e.repository }));
  events.on('TagDeleted', (e) => recorder.recordStorageChange(e.repository));
  events.on('RepositoryDeleted', (e) => recorder.recordDelete({ repository: e.repository }, e.artifacts));
  events.on('VulnerabilitiesCounted', ({ projectId, ...counts }) =>
    recorder.recordVulnerabilities(projectId, counts),
  );
  deps.jobs.queue.register(insightsSnapshotJob(recorder));
  await deps.jobs.scheduler.upsert({
    name: 'insights.snapshot',
    cron: '0 5 0 * * *',
    kind: 'insights.snapshot',
    payload: {},
  });
  recorder.start();
  return { service: new InsightService(deps), recorder };
}
