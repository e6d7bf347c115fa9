import type { MetaStore } from '../../db/store.js';
import type { JobQueue } from '../../jobs/queue.js';
import { scanExportJob } from '../../jobs/kinds/scan-export.js';
import type { Clock } from '../../lib/clock.js';
import type { StorageDriver } from '../../storage/driver.js';
import { ScanExports, scanExportKind, scanExportPayload } from '../scan-export/scan-exports.js';
import { BUILTIN_SCANNER_UUID } from '../scanning/scanner.js';
import { SecurityHub } from './security-hub.js';

export interface ScanHub {
  securityHub: SecurityHub;
  scanExports: ScanExports;
}

/**
 * The registry-wide views of scan results (issue 17): the security hub and the CVE export, with the
 * export's job kind registered on the queue. Called once by the composition root.
 */
export function wireScanHub(d: {
  store: MetaStore;
  storage: StorageDriver;
  clock: Clock;
  queue: Pick<JobQueue, 'enqueue' | 'register'>;
  /** The system default scanner's registration uuid; the built-in scanner's until one is configured. */
  defaultScanner?: () => Promise<string | undefined>;
}): ScanHub {
  const defaultScanner = d.defaultScanner ?? (async () => BUILTIN_SCANNER_UUID);
  const scanExports = new ScanExports({ ...d, defaultScanner });
  d.queue.register(scanExportJob(scanExportKind, scanExportPayload, scanExports));
  return { securityHub: new SecurityHub({ store: d.store, defaultScanner }), scanExports };
}
