import type { MetaStore } from '../../db/store.js';
import { scanArtifactJob, scanRequestJob } from '../../jobs/kinds/scan.js';
import type { JobRuntime } from '../../jobs/runtime.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/logger.js';
import type { StorageDriver } from '../../storage/driver.js';
import type { EventBus } from '../events.js';
import { builtinOnlyResolver } from './interim-resolver.js';
import { ScanJob } from './scan-job.js';
import { ScanService } from './scan-service.js';
import { CveAllowlists } from './cve-allowlists.js';
import { PullPolicy } from './pull-policy.js';
import type { ScannerResolver } from './scanner.js';

export interface ScanningDeps {
  store: MetaStore;
  storage: StorageDriver;
  clock: Clock;
  events: EventBus;
  jobs: JobRuntime;
  log: Log;
  /** The scanner each project uses; the built-in one for every project when not given. */
  scanners?: ScannerResolver;
}

/** Scanning's wiring: the scan service, its job kinds and its event subscriptions. */
export function wireScanning(d: ScanningDeps): {
  scans: ScanService;
  allowlists: CveAllowlists;
  pullPolicy: PullPolicy;
} {
  const scanners = d.scanners ?? builtinOnlyResolver(d);
  const scans = new ScanService({
    store: d.store,
    clock: d.clock,
    queue: d.jobs.queue,
    log: d.log,
    events: d.events,
    scanners,
  });
  d.jobs.queue.register(
    scanArtifactJob(new ScanJob({ store: d.store, clock: d.clock, events: d.events, scanners })),
  );
  d.jobs.queue.register(scanRequestJob(scans));
  d.events.onTransaction('ArtifactPushed', (tx, e) => scans.onPushed(tx, e));
  const allowlists = new CveAllowlists({ store: d.store, clock: d.clock });
  const pullPolicy = new PullPolicy({
    store: d.store,
    clock: d.clock,
    scans,
    allowlists,
    refreshMs: 3000,
  });
  return { scans, allowlists, pullPolicy };
}
