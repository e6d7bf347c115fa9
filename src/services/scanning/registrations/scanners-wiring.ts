import type { BearerTokens } from '../../../auth/bearer-token.js';
import type { BerthConfig } from '../../../config/schema.js';
import type { MetaStore } from '../../../db/store.js';
import type { Clock } from '../../../lib/clock.js';
import type { StorageDriver } from '../../../storage/driver.js';
import type { SecretSealer } from '../../replication/registry-endpoints.js';
import type { SbomGenerator } from '../builtin/builtin-scanner.js';
import type { ScanCpuFigures } from '../builtin/scan-pool.js';
import type { Scanner, ScanTarget } from '../scanner.js';
import type { AdapterSettings } from './adapter-client.js';
import { ScanRobots } from './scan-robots.js';
import { ScannerRegistrations } from './scanner-registrations.js';

/** The adapter's metadata property naming how it wants to be given registry access (Harbor's). */
const authorizationTypeProperty = 'harbor.scanner-adapter/registry-authorization-type';

export interface ScannersDeps {
  store: Pick<MetaStore, 'scanners' | 'vulnDb' | 'layerInventories' | 'transaction'>;
  storage: StorageDriver;
  clock: Clock;
  secrets: SecretSealer;
  tokens: BearerTokens;
  /** The registry's base URL an adapter pulls from: the internal (listen) address, or the external one. */
  registryUrl(internal: boolean): string;
  sbom?: SbomGenerator;
  /** Where the scanning processes' CPU by phase is counted (for /metrics). */
  scanCpu?: ScanCpuFigures;
  /**
   * `scanning.workers` (the built-in scanner's scans at once, each in a scanning process; 0 scans on the
   * event loop), the database and storage each process opens, and `auth.robotPrefix` (scan robots log in as `<prefix><project>+<name>`).
   */
  config: {
    scanning: { workers: number; isolation: 'process' | 'thread'; cpuShareWhenBusy: number };
    database: { url: string };
    auth: { robotPrefix: string };
    storage: BerthConfig['storage'];
  };
}

/**
 * Builds the scanners: the registrations (also the ScannerResolver the scan jobs use), the built-in
 * scanner over the storage driver and the vulnerability database, and Pluggable Scanner API clients
 * that give an adapter the credentials of a robot account made for the scan (scanRegistryAccess).
 */
export function wireScanners(d: ScannersDeps): ScannerRegistrations {
  const robots = new ScanRobots({ store: d.store, clock: d.clock, prefix: d.config.auth.robotPrefix });
  const builtin = lazyScanner(async () => {
    const { BuiltinScanner } = await import('../builtin/builtin-scanner.js');
    const { ScanPool } = await import('../builtin/scan-pool.js');
    return new BuiltinScanner({
      store: d.store,
      storage: d.storage,
      clock: d.clock,
      sbom: d.sbom ?? spdxGenerator(d.clock),
      ...(d.config.scanning.workers > 0
        ? {
            engine: new ScanPool({
              size: d.config.scanning.workers,
              databaseUrl: d.config.database.url,
              // The report is written where the scan ran (a thread too), not on this event loop.
              fill: !d.config.database.url.includes(':memory:'),
              cpuShareWhenBusy: d.config.scanning.cpuShareWhenBusy,
              ...(d.scanCpu ? { figures: d.scanCpu } : {}),
              // An in-memory database is this process's only: its scans run in threads of it.
              ...(d.config.scanning.isolation === 'thread' || d.config.database.url.includes(':memory:')
                ? {}
                : { processes: { storage: d.config.storage } }),
            }),
          }
        : {}),
    });
  });
  return new ScannerRegistrations({
    store: d.store,
    clock: d.clock,
    secrets: d.secrets,
    scanners: {
      builtin,
      adapter: (settings: AdapterSettings) =>
        lazyScanner(async () => {
          const { AdapterClient } = await import('./adapter-client.js');
          return new AdapterClient(settings, {
            registryAccess: async (target, properties) => ({
              url: d.registryUrl(settings.useInternalAddr ?? false),
              ...(await scanRegistryAccess(
                { robots, tokens: d.tokens },
                settings.name ?? 'scanner',
                target,
                properties[authorizationTypeProperty],
              )),
            }),
          });
        }),
    },
  });
}

/** The built-in scanner's SBOM: an SPDX 2.3 JSON document of the image's package inventory. */
function spdxGenerator(clock: Clock): SbomGenerator {
  return async (inventory, target) => {
    const { BUILTIN_SCANNER } = await import('../builtin/scan-image.js');
    const { spdxBytes, spdxDocument, SPDX_MEDIA_TYPE } = await import('../sbom/spdx.js');
    const doc = spdxDocument(inventory, target, { created: clock.now(), tool: BUILTIN_SCANNER });
    return { mediaType: SPDX_MEDIA_TYPE, document: spdxBytes(doc) };
  };
}

/**
 * A scanner whose module loads with its first call: the built-in engine (inventory readers, version
 * schemes, zip reader) and the adapter client (undici) weigh several MiB that a node which never scans
 * should not hold (issue 15's idle memory).
 */
function lazyScanner<T extends Scanner & { close?(): Promise<void> }>(
  make: () => Promise<T>,
): Scanner & { close(): Promise<void> } {
  let made: Promise<T> | undefined;
  const get = () => (made ??= make());
  return {
    metadata: async (signal) => (await get()).metadata(signal),
    scan: async (target, type, log, signal) => (await get()).scan(target, type, log, signal),
    close: async () => {
      if (made) await (await made).close?.();
    },
  };
}

/**
 * How an adapter pulls the artifact it scans, as Harbor's scan job gives it: a robot account made for
 * this scan (ScanRobots: pull and scanner-pull in the artifact's project, deleted when the scan ends),
 * as `Basic` credentials, or, when the adapter's metadata asks for `Bearer`
 * (`harbor.scanner-adapter/registry-authorization-type`), as a token of the token service issued to
 * that robot for the scanned repository only. Basic is Harbor's default when the adapter says nothing.
 */
export async function scanRegistryAccess(
  d: { robots: ScanRobots; tokens: BearerTokens },
  registrationName: string,
  target: ScanTarget,
  type: string | undefined,
): Promise<{ authorization: string; release(): Promise<void> }> {
  if (type !== undefined && type !== 'Bearer' && type !== 'Basic')
    throw new Error(`the adapter asks for registry authorization "${type}"; Berth gives Basic or Bearer`);
  const robot = await d.robots.create(target, registrationName);
  const release = () => d.robots.delete(robot);
  try {
    if (type === 'Bearer') {
      const { token } = await d.tokens.issue({ kind: 'robot', id: robot.id, name: robot.name }, [
        { type: 'repository', name: target.repository, actions: ['pull', 'scanner-pull'] },
      ]);
      return { authorization: `Bearer ${token}`, release };
    }
    const basic = Buffer.from(`${robot.name}:${robot.secret}`).toString('base64');
    return { authorization: `Basic ${basic}`, release };
  } catch (err) {
    await release();
    throw err;
  }
}
