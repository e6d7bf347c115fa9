import type { BearerTokens } from '../../../auth/bearer-token.js';
import type { MetaStore } from '../../../db/store.js';
import type { Clock } from '../../../lib/clock.js';
import type { StorageDriver } from '../../../storage/driver.js';
import type { SecretSealer } from '../../replication/registry-endpoints.js';
import type { SbomGenerator } from '../builtin/builtin-scanner.js';
import type { Scanner, ScanTarget } from '../scanner.js';
import type { AdapterSettings } from './adapter-client.js';
import { ScannerRegistrations } from './scanner-registrations.js';

/** The adapter's metadata property naming how it wants to be given registry access (Harbor's). */
const authorizationTypeProperty = 'harbor.scanner-adapter/registry-authorization-type';

export interface ScannersDeps {
  store: Pick<MetaStore, 'scanners' | 'vulnDb' | 'transaction'>;
  storage: StorageDriver;
  clock: Clock;
  secrets: SecretSealer;
  tokens: BearerTokens;
  /** The registry's base URL an adapter pulls from: the internal (listen) address, or the external one. */
  registryUrl(internal: boolean): string;
  sbom?: SbomGenerator;
}

/**
 * Builds the scanners: the registrations (also the ScannerResolver the scan jobs use), the built-in
 * scanner over the storage driver and the vulnerability database, and Pluggable Scanner API clients
 * that give an adapter a pull token scoped to the one repository it scans.
 */
export function wireScanners(d: ScannersDeps): ScannerRegistrations {
  const builtin = lazyScanner(async () => {
    const { BuiltinScanner } = await import('../builtin/builtin-scanner.js');
    return new BuiltinScanner({
      store: d.store,
      storage: d.storage,
      clock: d.clock,
      sbom: d.sbom ?? spdxGenerator(d.clock),
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
              authorization: await pullAuthorization(d.tokens, target, properties[authorizationTypeProperty]),
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
 * A Bearer token granting pull (and Harbor's `scanner-pull`, which the pull policy lets through) on the
 * scanned repository only, signed by the token service's key, so the adapter pulls without any account.
 */
export async function pullAuthorization(
  tokens: BearerTokens,
  target: ScanTarget,
  type: string | undefined,
): Promise<string> {
  if (type !== undefined && type !== 'Bearer' && type !== 'Basic')
    throw new Error(`the adapter asks for registry authorization "${type}"; Berth gives Bearer`);
  const { token } = await tokens.issue({ kind: 'robot', id: 0, name: 'robot$scanner' }, [
    { type: 'repository', name: target.repository, actions: ['pull', 'scanner-pull'] },
  ]);
  return `Bearer ${token}`;
}
