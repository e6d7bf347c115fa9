import type { BerthConfig } from '../../config/schema.js';
import type { MetaStore } from '../../db/store.js';
import { uploadPurgeJob } from '../../jobs/kinds/upload-purge.js';
import type { JobRuntime } from '../../jobs/runtime.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { StorageDriver } from '../../storage/driver.js';
import type { EventBus } from '../events.js';
import { BlobWriteGuard } from '../gc/blob-write-guard.js';
import { ImmutabilityService } from '../policies/immutability/immutability-service.js';
import { QuotaService } from '../policies/quota/quota-service.js';
import { BlobService } from './blob-service.js';
import { ManifestService } from './manifest-service.js';
import { Namespaces } from './namespaces.js';
import { PullRecorder } from './pull-recorder.js';
import { UploadSessions } from './upload-sessions.js';

/**
 * The registry core, wired: uploads, blobs and manifests with the rules a push meets (quota, tag
 * immutability, the GC fence), the batched pull-time recorder, and the hourly `upload.purge`.
 */
export async function wireRegistry(d: {
  config: Pick<BerthConfig, 'registry'>;
  store: MetaStore;
  storage: StorageDriver;
  clock: Clock;
  log: Logger;
  events: EventBus;
  jobs: JobRuntime;
}) {
  const { store, storage, clock, events } = d;
  const namespaces = new Namespaces({ store, clock });
  const pulls = new PullRecorder({ store, clock, log: d.log, intervalMs: 2000 });
  pulls.start();
  const quota = new QuotaService({ store, events, clock });
  const writes = new BlobWriteGuard({ store, storage, clock });
  const uploads = new UploadSessions({ store, storage, namespaces, events, clock, quota, writes });
  d.jobs.queue.register(uploadPurgeJob(uploads, d.config.registry.uploadMaxIdleHours * 3600_000));
  await d.jobs.scheduler.upsert({
    name: 'upload.purge',
    cron: '0 0 * * * *',
    kind: 'upload.purge',
    payload: {},
  });
  const blobs = new BlobService({ store, storage, namespaces });
  const immutability = new ImmutabilityService({ store, clock });
  const manifests = new ManifestService({
    ...{ store, storage, namespaces, events, pulls, clock },
    ...{ immutability, quota, writes },
    cacheBytes: d.config.registry.manifestCacheMb * 2 ** 20,
  });
  return { pulls, quota, writes, uploads, blobs, immutability, manifests };
}
