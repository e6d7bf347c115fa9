import type { MetaStore } from '../../db/store.js';
import { scanArtifactJob } from '../../jobs/kinds/scan.js';
import type { JobRuntime } from '../../jobs/runtime.js';
import type { Clock } from '../../lib/clock.js';
import type { StorageDriver } from '../../storage/driver.js';
import type { EventBus } from '../events.js';
import { builtinOnlyResolver } from './interim-resolver.js';
import { ScanJob } from './scan-job.js';
import { ScanService } from './scan-service.js';
import type { ScannerResolver } from './scanner.js';

export interface ScanningDeps {
  store: MetaStore;
  storage: StorageDriver;
  clock: Clock;
  events: EventBus;
  jobs: JobRuntime;
  /** The scanner each project uses; the built-in one for every project when not given. */
  scanners?: ScannerResolver;
}

/** Scanning's wiring: the scan service, its job kinds and its event subscriptions. */
export function wireScanning(d: ScanningDeps): { scans: ScanService } {
  const scanners = d.scanners ?? builtinOnlyResolver(d);
  const scans = new ScanService({
    store: d.store,
    clock: d.clock,
    queue: d.jobs.queue,
    events: d.events,
    scanners,
  });
  d.jobs.queue.register(
    scanArtifactJob(new ScanJob({ store: d.store, clock: d.clock, events: d.events, scanners })),
  );
  return { scans };
}
