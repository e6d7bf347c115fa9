import type { BerthConfig } from '../../config/schema.js';
import type { MetaStore } from '../../db/store.js';
import { gcRunJob } from '../../jobs/kinds/gc.js';
import type { JobRuntime } from '../../jobs/runtime.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { StorageDriver } from '../../storage/driver.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import type { UploadSessions } from '../registry/upload-sessions.js';
import { GarbageCollector } from './garbage-collector.js';
import { gcRunPayload, GcService } from './gc-service.js';

/** Garbage collection, wired: the collector, the service the API calls, and the `gc.run` job kind. */
export function wireGc(d: {
  config: Pick<BerthConfig, 'registry'>;
  store: MetaStore;
  storage: StorageDriver;
  clock: Clock;
  log: Logger;
  jobs: JobRuntime;
  artifacts: ArtifactService;
  uploads: UploadSessions;
}): GcService {
  const { store, clock } = d;
  const gc = new GcService({
    store,
    clock,
    queue: d.jobs.queue,
    scheduler: d.jobs.scheduler,
    collector: new GarbageCollector({
      ...{ store, storage: d.storage, clock, log: d.log, artifacts: d.artifacts, uploads: d.uploads },
      graceMs: d.config.registry.gcGraceMinutes * 60_000,
      uploadMaxIdleMs: d.config.registry.uploadMaxIdleHours * 3600_000,
    }),
  });
  d.jobs.queue.register(gcRunJob(gcRunPayload, gc));
  return gc;
}
