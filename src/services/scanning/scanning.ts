import type { MetaStore } from '../../db/store.js';
import { scanAllJob, scanArtifactJob, scanRequestJob } from '../../jobs/kinds/scan.js';
import { ScanAll } from './scan-all.js';
import type { JobRuntime } from '../../jobs/runtime.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/logger.js';
import type { StorageDriver } from '../../storage/driver.js';
import type { EventBus } from '../events.js';
import { ScanJob } from './scan-job.js';
import { ScanService } from './scan-service.js';
import { CveAllowlists } from './cve-allowlists.js';
import { PullPolicy } from './pull-policy.js';
import type { ScannerResolver, ScanTarget } from './scanner.js';
import { SbomAccessoryWriter } from './sbom/sbom-accessory.js';
import type { ManifestService } from '../registry/manifest-service.js';
import type { UploadSessions } from '../registry/upload-sessions.js';

export interface ScanningDeps {
  store: MetaStore;
  storage: StorageDriver;
  clock: Clock;
  events: EventBus;
  jobs: JobRuntime;
  log: Log;
  /** The scanner each project uses. */
  scanners: ScannerResolver;
  /** The registry's own push and delete, through which an SBOM accessory is stored. */
  manifests: ManifestService;
  uploads: UploadSessions;
}

/** Scanning's wiring: the scan service, its job kinds and its event subscriptions. */
export function wireScanning(d: ScanningDeps): {
  scans: ScanService;
  allowlists: CveAllowlists;
  pullPolicy: PullPolicy;
  scanAll: ScanAll;
} {
  const { scanners } = d;
  const scans = new ScanService({
    store: d.store,
    clock: d.clock,
    queue: d.jobs.queue,
    log: d.log,
    events: d.events,
    scanners,
  });
  const sbomWriter = new SbomAccessoryWriter({
    ...{ store: d.store, manifests: d.manifests, uploads: d.uploads, clock: d.clock },
  });
  const sboms = {
    write: (t: ScanTarget, document: Uint8Array) =>
      sbomWriter.writeFor({ log: d.log }, t.repository, t.digest, document),
  };
  d.jobs.queue.register(
    scanArtifactJob(new ScanJob({ store: d.store, clock: d.clock, events: d.events, scanners, sboms })),
  );
  d.jobs.queue.register(scanRequestJob(scans));
  const scanAll = new ScanAll({
    ...{ store: d.store, clock: d.clock, log: d.log, scans },
    ...{ queue: d.jobs.queue, scheduler: d.jobs.scheduler },
  });
  d.jobs.queue.register(scanAllJob(scanAll));
  d.events.onTransaction('ArtifactPushed', (tx, e) => scans.onPushed(tx, e));
  const allowlists = new CveAllowlists({ store: d.store, clock: d.clock });
  const pullPolicy = new PullPolicy({
    store: d.store,
    clock: d.clock,
    scans,
    allowlists,
    refreshMs: 3000,
  });
  return { scans, allowlists, pullPolicy, scanAll };
}
