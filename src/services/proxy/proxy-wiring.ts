import type { MetaStore } from '../../db/store.js';
import { proxyCompleteJob } from '../../jobs/kinds/proxy-complete.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import { HashThread } from '../../lib/hash-thread.js';
import type { Log } from '../../lib/logger.js';
import type { StorageDriver } from '../../storage/driver.js';
import type { EventBus } from '../events.js';
import type { BlobWriteGuard } from '../gc/blob-write-guard.js';
import type { QuotaService } from '../policies/quota/quota-service.js';
import type { BlobService } from '../registry/blob-service.js';
import type { ManifestService } from '../registry/manifest-service.js';
import type { PullRecorder } from '../registry/pull-recorder.js';
import type { RegistryEndpoints } from '../replication/registry-endpoints.js';
import { BlobFetches } from './blob-fetches.js';
import { CachedArtifacts } from './cached-artifacts.js';
import { ProxyCache, type ProxyMetrics } from './proxy-cache.js';
import { ProxyProjects } from './proxy-projects.js';
import { UpstreamSlots } from './upstream-slots.js';

/**
 * Builds the proxy cache from the registry's services and the replication's registry endpoints. Called
 * once by the composition root. The first fetch of an artifact is audited as its creation by the client
 * whose pull completed it (the ArtifactPushed its recording raises names that client). Registers the
 * `proxy.complete` job, and forgets the cache's bookkeeping of what is deleted (API, retention, GC).
 */
export function buildProxyCache(d: {
  store: MetaStore;
  storage: StorageDriver;
  clock: Clock;
  log: Log;
  events: EventBus;
  quota: QuotaService;
  writes: BlobWriteGuard;
  manifests: ManifestService;
  blobs: BlobService;
  pulls: PullRecorder;
  registries: RegistryEndpoints;
  metrics: ProxyMetrics;
  queue: JobQueue;
  /** registry.proxyCompleteAfterSeconds */
  completeAfterSeconds: number;
  /** registry.proxyBacklogMb, in bytes */
  backlogBytes?: number;
  /** registry.proxyHashThread */
  hashThread?: boolean;
}): { proxy: ProxyCache; close(): Promise<void> } {
  const projects = new ProxyProjects({
    store: d.store,
    remote: (row, options) => d.registries.remote(row, options),
  });
  const artifacts = new CachedArtifacts({
    store: d.store,
    storage: d.storage,
    manifests: d.manifests,
    pulls: d.pulls,
    log: d.log,
  });
  const hashes = d.hashThread === false ? undefined : new HashThread();
  const proxy = new ProxyCache({
    store: d.store,
    storage: d.storage,
    projects,
    fetches: new BlobFetches({
      store: d.store,
      storage: d.storage,
      clock: d.clock,
      log: d.log,
      quota: d.quota,
      writes: d.writes,
      ...(d.backlogBytes ? { backlogBytes: d.backlogBytes } : {}),
      ...(hashes ? { hashes } : {}),
    }),
    slots: new UpstreamSlots(),
    manifests: d.manifests,
    blobs: d.blobs,
    writes: d.writes,
    artifacts,
    events: d.events,
    clock: d.clock,
    log: d.log,
    metrics: d.metrics,
    queue: d.queue,
    completeAfterMs: d.completeAfterSeconds * 1000,
  });
  d.queue.register(proxyCompleteJob(proxy));
  d.events.onTransaction('ArtifactDeleted', (tx, e) => tx.proxyCache.forgetArtifact(e.repository, e.digest));
  d.events.on('TagDeleted', (e) => d.store.proxyCache.forgetTag(e.repository, e.tag));
  d.events.on('RepositoryDeleted', (e) => d.store.proxyCache.forgetRepository(e.repository));
  return {
    proxy,
    close: async () => {
      await projects.close();
      await hashes?.close();
    },
  };
}
